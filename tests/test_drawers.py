import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

import pixray
from pixray import SettingsError
from pixray.drawers.grid import PixelGrid
from pixray.drawers.pixel import cell_index_map
from pixray.export import finalize
from pixray.images import tensor_to_pil
from pixray.palettes import load_palette
from pixray.quantize import quantize
from pixray.session import Session
from pixray.settings import resolve


@pytest.fixture
def strokes(quick):
    return {**quick, "drawer": "clipdraw", "pixel_size": None, "strokes": 12, "size": (64, 48)}


def test_clipdraw_renders_with_gradients_everywhere(strokes):
    session = Session(resolve(strokes))
    drawer = session.drawer
    image = drawer.synth()
    assert image.shape == (1, 3, 48, 64) and 0 <= image.min() and image.max() <= 1
    session.step()
    for tensor in (drawer.control, drawer.widths, drawer.colors):
        assert tensor.grad is not None and tensor.grad.abs().sum() > 0


def test_clipdraw_on_paper_starts_the_same_strokes_faint(strokes):
    """init_noise=paper (the default with the embedded guide): only what the perceptor asks for shows."""
    opaque = Session(resolve({**strokes, "strokes": 200, "init_noise": "pixels"})).drawer
    faint = Session(resolve({**strokes, "strokes": 200, "init_noise": "paper"})).drawer
    assert torch.equal(faint.control, opaque.control) and torch.equal(faint.colors[:, :3], opaque.colors[:, :3])
    assert opaque.colors[:, 3].min() >= 0.5 and faint.colors[:, 3].min() >= 0.1 and faint.colors[:, 3].max() <= 0.3
    assert faint.colors[:, 3].max() - faint.colors[:, 3].min() > 0.15  # the draws, rescaled: still spread
    assert (1 - faint.synth()).abs().mean() < 0.5 * (1 - opaque.synth()).abs().mean()


def test_clipdraw_clamp_keeps_strokes_short_on_canvas_and_off_paper(strokes):
    session = Session(resolve({**strokes, "stroke_length": 0.2}))
    drawer = session.drawer
    with torch.no_grad():
        stretch = torch.tensor([3.0, -2.0], device=drawer.control.device)
        drawer.control.mul_(stretch).add_(torch.randn_like(drawer.control) * 40)
        drawer.colors.fill_(1.0)
        drawer.widths.fill_(100.0)
    drawer.clamp()
    extent = drawer.control.amax(1) - drawer.control.amin(1)  # what the render patch must hold
    assert extent.max() <= 2 * drawer.radius + 1e-4
    assert drawer.control[..., 0].min() >= 0 and drawer.control[..., 0].max() <= 64
    assert drawer.colors[:, :3].amin(1).max() <= 0.9 + 1e-6
    assert drawer.widths.max() == strokes.get("max_stroke_width", 5.0)


def test_clipdraw_run_writes_svg(strokes, tmp_path):
    pixray.run(**strokes)
    svg = (tmp_path / "run" / "output.svg").read_text()
    assert svg.count("<path") == 12 and (tmp_path / "run" / "output.png").is_file()


def test_clipdraw_init_image_colours_the_strokes(strokes, tmp_path):
    path = tmp_path / "init.png"
    Image.new("RGB", (64, 48), (30, 160, 90)).save(path)
    drawer = Session(resolve({**strokes, "init_image": str(path), "allow_paper_color": True})).drawer
    assert torch.allclose(drawer.colors[:, :3].cpu(), torch.tensor([30, 160, 90]) / 255, atol=1e-3)


def test_line_sketch_optimises_only_the_shapes(strokes):
    session = Session(resolve({**strokes, "drawer": "line_sketch", "max_stroke_width": 2.5}))
    drawer = session.drawer
    assert [g["params"] for g in drawer.param_groups()] == [[drawer.control]]
    assert torch.all(drawer.widths == 2.5) and torch.all(drawer.colors.cpu() == torch.tensor([0.0, 0, 0, 1]))
    session.step()
    assert drawer.control.grad.abs().sum() > 0


def test_line_sketch_draws_few_long_strokes_from_the_middle_unless_told_otherwise(quick):
    settings = {**quick, "drawer": "line_sketch", "pixel_size": None, "size": (64, 64)}
    sketch = resolve(settings)
    assert (sketch.strokes, sketch.stroke_length) == (32, 0.4)  # pixray's line_sketch: a few long lines
    anchors = Session(sketch).drawer.control.detach()[:, 0]
    assert anchors.min() >= 16 and anchors.max() <= 48  # the middle half of each side
    told = resolve({**settings, "strokes": 100, "stroke_length": 0.1})
    assert (told.strokes, told.stroke_length) == (100, 0.1)
    assert resolve({**settings, "drawer": "clipdraw"}).strokes == 256


def test_grid_larger_than_the_picture_is_refused_for_any_drawer(strokes):
    with pytest.raises(SettingsError, match="'pixel_size': 100x10 cells must be between 1x1 and the output size 64x48"):
        resolve({**strokes, "pixel_size": (100, 10)})


def test_stroke_width_bounds_are_checked(strokes):
    with pytest.raises(SettingsError, match="'min_stroke_width' \\(6.0\\) must not exceed"):
        resolve({**strokes, "min_stroke_width": 6})


def test_pixel_grid_turns_any_drawer_into_pixel_art(strokes, tmp_path):
    session = Session(resolve({**strokes, "pixel_size": (16, 12), "palette": "pico8"}))
    assert isinstance(session.drawer, PixelGrid)
    image = session.drawer.synth()
    blocks = image[0].reshape(3, 12, 4, 16, 4)
    assert torch.equal(blocks, blocks[:, :, :1, :, :1].expand_as(blocks))
    session.step()
    assert session.drawer.inner.control.grad.abs().sum() > 0
    result = finalize(session.drawer.export(), session.settings)
    assert result.sprite.size == (16, 12) and result.image.size == (64, 48) and "output.svg" in result.files


def test_anchoring_gives_gradients_for_vector_drawers(strokes, tmp_path):
    path = tmp_path / "init.png"
    picture = Image.new("RGB", (64, 48), "white")
    picture.paste((250, 10, 10), (8, 8, 56, 40))  # a red block: line_sketch starts along its edge
    picture.save(path)
    for drawer in ("clipdraw", "line_sketch"):
        session = Session(resolve({**strokes, "drawer": drawer, "prompts": "x:0", "init_image": str(path),
                                   "init_weight_pix": 1.0, "init_clip_weight": 1.0}))
        parts = session.step()
        assert parts["init_image pixels"] > 0 and session.drawer.control.grad.abs().sum() > 0


@pytest.mark.parametrize("shape", ["rect", "rectshift", "hex", "diamond", "tri"])
def test_cell_shapes_map_every_pixel_to_one_cell(shape):
    index, (rows, cols) = cell_index_map(shape, (12, 8), (96, 64))
    assert index.shape == (64, 96) and index.min() >= 0 and index.max() < rows * cols
    used, counts = index.unique(return_counts=True)
    expected = {"rect": 96, "rectshift": 4 * 12 + 4 * 13, "tri": 192}  # odd rows: two half cells
    if shape in expected:
        assert len(used) == expected[shape]
    interior = counts[counts >= np.median(counts.numpy())]
    assert interior.max() <= 1.3 * interior.min()  # cells inside the picture have (nearly) one area


def test_rect_cells_are_nearest_exact_scaling():
    index, (rows, cols) = cell_index_map("rect", (7, 5), (23, 17))
    cells = torch.arange(rows * cols, dtype=torch.float64).view(1, 1, rows, cols)
    assert torch.equal(index.double(), F.interpolate(cells, size=(17, 23), mode="nearest-exact")[0, 0])


@pytest.mark.parametrize("shape", ["hex", "diamond", "tri", "rectshift"])
def test_shaped_cells_render_and_export_exactly(quick, shape):
    # nearest colour: a ramp's lightness stretch spans the whole sprite, whose edge cells a shifted row hides
    session = Session(resolve({**quick, "pixel_type": shape, "palette": "gameboy", "palette_space": "oklab",
                               "cleanup": False}))
    image = session.drawer.synth()
    cells = session.drawer.cell_pixels()
    assert len(torch.unique(image[0].flatten(1), dim=1).T) <= cells.shape[2] * cells.shape[3]
    session.step()
    result = finalize(session.drawer.export(), session.settings)
    # Independently of how export maps cells to pixels: quantising the rendered picture pixel by pixel
    # must give the exported image (each pixel shows its cell's colour, mapped to the palette).
    palette = load_palette("gameboy").array()
    rendered = np.asarray(tensor_to_pil(session.drawer.synth()))
    assert np.array_equal(np.asarray(result.image.convert("RGB")), palette[quantize(rendered, palette, space="oklab")])
