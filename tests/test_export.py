import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import pixray
from pixray.cli import main
from pixray.drawers import drawer_class
from pixray.export import finalize, upscale_nearest
from pixray.palettes import load_palette
from pixray.quantize import quantize
from pixray.session import Session
from pixray.settings import resolve

from .conftest import TINY

PICO8 = {tuple(c) for c in load_palette("pico8").colors}


def colours(image: Image.Image) -> set:
    return {c for _, c in image.convert("RGB").getcolors(1 << 20)}


def drawer_for(**values):
    settings = resolve({"prompts": "x", "clip_models": TINY, **values})
    drawer = drawer_class("pixel")(settings, torch.device("cpu"), torch.Generator().manual_seed(0))
    drawer.init_from_image(None)
    return drawer, settings


def test_palette_run_exports_indexed_exact_images_and_gpl(quick, tmp_path):
    pixray.run(**quick, palette="pico8", dither="bayer4")
    out = tmp_path / "run"
    with Image.open(out / "output.png") as image, Image.open(out / "output_sprite.png") as sprite:
        assert image.mode == "P" and sprite.mode == "P" and sprite.size == (16, 12)
        assert colours(image) <= PICO8 and colours(sprite) <= PICO8
        assert sprite.convert("RGB").resize(image.size, Image.Resampling.NEAREST).tobytes() == \
            image.convert("RGB").tobytes()
        used = colours(sprite)
    assert set(load_palette(str(out / "palette.gpl")).colors) == used


def test_cli_done_when_castle_in_pico8(tmp_path):
    out = tmp_path / "castle"
    assert main(["--prompts", "castle", "--palette", "pico8", "--dither", "bayer4", "--pixel_size", "64", "36",
                 "--clip_models", TINY, "--iterations", "2", "--num_cuts", "2", "--outdir", str(out)]) == 0
    with Image.open(out / "output.png") as image, Image.open(out / "output_sprite.png") as sprite:
        assert colours(image) <= PICO8 and sprite.size == (64, 36) and sprite.mode == "P"


@pytest.mark.filterwarnings("ignore:setting 'size'.*mixels")  # uneven cells on purpose
@settings(max_examples=25, deadline=None)
@given(width=st.integers(1, 90), height=st.integers(1, 60), data=st.data())
def test_any_size_and_grid_are_honoured_exactly(width, height, data):
    cells_w = data.draw(st.integers(1, width))
    cells_h = data.draw(st.integers(1, height))
    drawer, settings = drawer_for(size=(width, height), pixel_size=(cells_w, cells_h), palette="1bit",
                                  palette_mode="export", cleanup=False)
    result = finalize(drawer.export(), settings)
    assert result.image.size == (width, height) and result.sprite.size == (cells_w, cells_h)
    assert colours(result.image) <= {(0, 0, 0), (255, 255, 255)}
    # the export's cell mapping is the renderer's: quantising the rendered picture gives the same pixels
    rendered = np.asarray(drawer.export().image)
    expected = quantize(rendered, load_palette("1bit").array())
    assert np.array_equal(np.asarray(result.image), expected)


def test_one_bit_output_at_a_custom_size(quick, tmp_path):
    image = pixray.run(**{**quick, "size": (123, 77), "pixel_size": (123, 77), "palette": "1bit",
                          "dither": "floyd-steinberg"})
    assert image.size == (123, 77) and colours(image) == {(0, 0, 0), (255, 255, 255)}


def test_upscale_nearest_matches_pil_for_divisible_sizes():
    cells = np.arange(12).reshape(3, 4)
    assert np.array_equal(upscale_nearest(cells, (8, 6)), np.asarray(
        Image.fromarray(cells.astype(np.uint8)).resize((8, 6), Image.Resampling.NEAREST)))


def test_hard_palette_mode_keeps_every_cell_a_palette_colour(quick):
    session = Session(resolve({**quick, "palette": "gameboy", "palette_mode": "hard", "iterations": 8,
                               "learning_rate": 0.5}))
    palette = load_palette("gameboy").tensor()
    start = session.drawer.cells.detach().clone()
    for _ in session.iterate(every=1):
        cells = session.drawer.cell_colors().detach()[0].flatten(1).T.cpu()
        # exact equality: every cell is bit-for-bit one of the palette's colours
        assert (cells[:, None, :] == palette[None, :, :]).all(-1).any(1).all()
        assert session.drawer.cells.grad is not None and session.drawer.cells.grad.abs().sum() > 0
    assert not torch.equal(start, session.drawer.cells.detach())


def test_hard_mode_init_image_picks_the_nearest_colours(quick, tmp_path):
    path = tmp_path / "init.png"
    Image.new("RGB", (64, 48), (140, 170, 20)).save(path)  # nearest Game Boy colour: 8bac0f
    session = Session(resolve({**quick, "palette": "gameboy", "palette_mode": "hard", "init_image": str(path)}))
    colors = session.drawer.cell_colors()[0].flatten(1).T.cpu()
    assert torch.allclose(colors, torch.tensor([0x8B, 0xAC, 0x0F]) / 255)


def test_transparent_sprite_has_binary_alpha(quick, tmp_path):
    session = Session(resolve({**quick, "transparent": True, "colors": 0}))
    assert session.drawer.synth().shape[1] == 4
    session.step()
    assert session.drawer.alpha.grad is not None and session.drawer.alpha.grad.abs().sum() > 0
    with torch.no_grad():
        session.drawer.alpha.copy_(torch.linspace(0, 1, 16 * 12).view(1, 1, 12, 16))
    result = finalize(session.drawer.export(), session.settings)
    alpha = np.asarray(result.sprite)[..., 3]
    assert result.sprite.mode == "RGBA" and set(np.unique(alpha)) == {0, 255}
    assert set(np.unique(np.asarray(result.image)[..., 3])) == {0, 255}


def test_transparent_with_palette_is_indexed_with_a_transparent_entry(quick, tmp_path):
    pixray.run(**quick, transparent=True, palette="pico8")
    with Image.open(tmp_path / "run" / "output_sprite.png") as sprite:
        assert sprite.mode == "P" and sprite.info["transparency"] == 16
        rgba = np.asarray(sprite.convert("RGBA"))
        assert set(np.unique(rgba[..., 3])) <= {0, 255}
        assert {tuple(c) for c in rgba[rgba[..., 3] == 255][:, :3]} <= PICO8


def test_random_backgrounds_make_transparent_cells_look_different(quick):
    session = Session(resolve({**quick, "transparent": True}))
    cuts = torch.zeros(6, 4, 8, 8)
    composite = session._over_random_backgrounds(cuts)
    assert composite.shape == (6, 3, 8, 8) and composite.std(0).mean() > 0.05
    opaque = torch.cat([torch.full((6, 3, 8, 8), 0.3), torch.ones(6, 1, 8, 8)], 1)
    assert torch.allclose(session._over_random_backgrounds(opaque), torch.full((6, 3, 8, 8), 0.3))


def _seam_ratio(image: Image.Image) -> float:
    cells = np.asarray(image, dtype=float)
    interior = np.abs(np.diff(cells, axis=1)).mean()
    seam = np.abs(cells[:, 0] - cells[:, -1]).mean()
    return seam / max(interior, 1e-6)


@pytest.mark.parametrize("tile", [False, True])
def test_tile_mode_makes_the_seam_like_the_inside(quick, tmp_path, tile):
    path = tmp_path / "ramp.png"
    ramp = np.repeat(np.linspace(0, 255, 64)[None, :, None], 48, 0).repeat(3, 2).astype(np.uint8)
    Image.fromarray(ramp).save(path)
    result = pixray.run(**{**quick, "init_image": str(path), "tile": tile, "iterations": 40, "learning_rate": 0.05,
                           "colors": 0,
                           "outdir": str(tmp_path / f"tile{tile}")})
    sprite = result.resize((16, 12), Image.Resampling.NEAREST)
    if tile:
        assert _seam_ratio(sprite) < 1.0
    else:
        assert _seam_ratio(sprite) > 2.0  # the control: without tiling the ramp's jump stays


@pytest.mark.parametrize("space", ["oklab", "rgb"])
def test_hard_mode_start_picks_the_colour_the_export_picks(quick, tmp_path, space):
    rng = np.random.default_rng(1)
    path = tmp_path / "init.png"
    Image.fromarray(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)).save(path)
    session = Session(resolve({**quick, "palette": "pico8", "palette_mode": "hard", "palette_space": space,
                               "init_image": str(path), "size": (16, 12), "pixel_size": (16, 12)}))
    palette = load_palette("pico8").array()
    start = session.drawer.cells.argmax(1)[0].cpu().numpy()
    expected = quantize(np.asarray(Image.open(path).convert("RGB")), palette, "none", space)
    assert np.array_equal(start, expected)
