"""Line drawings of sprites (pixray/tracing.py), line_sketch's start on them and the trace loss."""

import numpy as np
import pytest
import torch
from PIL import Image

import pixray
from pixray import SettingsError
from pixray.losses import LossContext
from pixray.losses.trace import TraceLoss
from pixray.session import Session
from pixray.settings import resolve
from pixray.tracing import _to_count, chains, edges, outline, placement, strokes_along

EMBEDDED = "embedded"


def disc(size=16, radius=5.0, colour=(1.0, 0.0, 0.0)):
    """(1,4,size,size) an opaque disc of `colour` on a clear background."""
    ys, xs = torch.meshgrid(torch.arange(size) + 0.5, torch.arange(size) + 0.5, indexing="ij")
    inside = ((ys - size / 2) ** 2 + (xs - size / 2) ** 2 <= radius ** 2).float()
    rgb = torch.tensor(colour).view(3, 1, 1) * inside
    return torch.cat([rgb, inside[None]])[None]


def test_outline_inks_the_silhouette_edge_and_colour_changes_not_the_inside():
    sprite = disc()
    ink = outline(sprite)
    opaque = sprite[0, 3].numpy() > 0.5
    assert ink[8, 3] and ink[8, 12] and ink[3, 8]  # the disc's rim
    assert not ink[8, 8] and not ink[0, 0]  # its middle and the clear background
    assert not (ink & ~opaque).any()  # lines lie on the sprite
    full = torch.ones(1, 4, 8, 8)
    assert outline(full).sum() == 28 and not outline(full, frame=False).any()  # a frame only where asked
    rim = ink.sum()
    sprite[0, :3, 7:9, 7:9] = 0.0  # a black eye in the middle
    with_eye = outline(sprite)
    assert with_eye[7, 7] and with_eye.sum() > rim
    sprite[0, 0, 4:6, 4:12] = 0.95  # a next shade of red: no line
    assert outline(sprite)[4, 8] == with_eye[4, 8]


def test_chains_cover_every_ink_cell_once_with_neighbouring_steps():
    ink = outline(disc())
    ink[2, 2] = True  # a lone dot too
    paths = chains(ink, max_cells=7)
    cells = [cell for path in paths for cell in path]
    assert sorted(cells) == sorted(zip(*map(list, np.nonzero(ink))))
    assert len(cells) == len(set(cells))
    for path in paths:
        assert 1 <= len(path) <= 7
        assert all(max(abs(a[0] - b[0]), abs(a[1] - b[1])) == 1 for a, b in zip(path, path[1:]))


def test_a_straight_line_is_walked_end_to_end():
    ink = np.zeros((5, 12), bool)
    ink[2, 1:11] = True
    assert chains(ink, max_cells=20) == [[(2, x) for x in range(1, 11)]]


def test_chains_are_cut_or_repeated_to_the_number_of_strokes():
    long, short = [(0, x) for x in range(10)], [(3, 0), (3, 1)]
    assert _to_count([short, long, [(5, 5)]], 2) == [long, short]  # the longest kept
    four = _to_count([long], 4)
    assert len(four) == 4 and {cell for path in four for cell in path} == set(long)
    assert _to_count([[(1, 1)]], 3) == [[(1, 1)]] * 3


def test_strokes_follow_the_lines_where_the_grid_is_placed():
    ink = outline(disc())
    cell, origin = placement((96, 64), ink.shape)
    assert cell == 4 and origin == (16, 0)  # as large as fits, centred
    control = strokes_along(ink, count=12, points=7, cell=cell, origin=origin, max_cells=8)
    assert control.shape == (12, 7, 2)
    centres = torch.tensor(np.argwhere(ink), dtype=torch.float32).flip(1) * cell + cell / 2 + torch.tensor(origin)
    nearest = torch.cdist(control.reshape(-1, 2), centres).min(1).values
    assert nearest.max() <= cell * 0.75  # on the segment between two line cells
    assert strokes_along(np.zeros((4, 4), bool), 3, 7, 1.0, (0, 0), 4) is None


@pytest.fixture
def sketch(quick):
    return {**quick, "drawer": "line_sketch", "clip_models": EMBEDDED, "prompts": "a red love heart",
            "pixel_size": (32, 32), "size": (128, 128), "iterations": 0, "save_every": 0, "display_every": 0}


def ink_cells(picture: torch.Tensor) -> np.ndarray:
    """(1,3,128,128) → (32,32) cells at least half inked."""
    return (torch.nn.functional.avg_pool2d(1 - picture.mean(1, keepdim=True), 4)[0, 0] > 0.5).numpy()


def test_line_sketch_starts_on_the_guides_lines_under_the_embedded_guide(sketch):
    settings = resolve(sketch)
    assert settings.init_noise == "outline" and any(e.startswith("trace") for e in settings.custom_loss)
    assert settings.palette == "1bit"  # black ink on white paper ends in exactly those two colours
    session = Session(settings)
    loss = TraceLoss(settings)
    on_lines = session.drawer.synth().detach()
    lines = loss._build(on_lines.device, None)[0][0, 0].numpy() > 0.5
    drawn = ink_cells(on_lines)
    assert (drawn & lines).sum() >= 0.8 * lines.sum()  # the heart's outline, drawn
    assert (drawn & ~lines).sum() <= 0.25 * drawn.sum()  # little ink off it
    at_random = Session(resolve({**sketch, "init_noise": "pixels"})).drawer.synth().detach()
    context = lambda picture: LossContext(picture, 0, 1, None)  # noqa: E731
    blank = torch.ones_like(on_lines)
    assert loss(context(on_lines)) < 0.5 * loss(context(at_random))
    assert loss(context(blank)).item() == pytest.approx(1.0)


def test_the_trace_loss_pulls_strokes_onto_the_lines(sketch):
    settings = resolve({**sketch, "prompts": "a red love heart:0.00001", "init_noise": "pixels",
                        "custom_loss": ["trace:10"], "iterations": 30})
    session = Session(settings)
    first = session.step()["trace"]
    for _ in range(29):
        last = session.step()["trace"]
    assert last < 0.7 * first and session.drawer.inner.control.grad.abs().sum() > 0


def test_outline_and_trace_need_a_text_prompt_and_outline_needs_line_sketch(sketch):
    with pytest.raises(SettingsError, match="'init_noise': 'outline' lays line_sketch's strokes along lines; "
                                            "drawer 'pixel' allows"):
        resolve({**sketch, "drawer": "pixel", "init_noise": "outline"})
    with pytest.raises(SettingsError, match="'custom_loss': 'trace' follows the lines .* positive weight"):
        resolve({**sketch, "drawer": "pixel", "prompts": "a heart:-1", "custom_loss": ["trace"]})


def test_a_users_colours_or_palette_win_over_line_sketchs_black_and_white(sketch):
    assert resolve({**sketch, "colors": 4}).palette is None
    assert resolve({**sketch, "palette": "pico8"}).palette == "pico8"


def test_a_traced_line_sketch_is_byte_identical_for_the_same_seed(sketch, tmp_path):
    for name in ("a", "b"):
        pixray.run(**{**sketch, "iterations": 3, "outdir": str(tmp_path / name)})
    for file in ("output.png", "output.svg"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()
    picture = Image.open(tmp_path / "a" / "output.png").convert("RGB")
    assert {colour for _, colour in picture.getcolors()} == {(0, 0, 0), (255, 255, 255)}  # ink and paper


def test_a_picture_without_lines_leaves_the_trace_loss_out_with_a_warning(sketch, monkeypatch):
    import pixray.guide.bank as bank

    monkeypatch.setattr(bank, "outline_target", lambda *args: np.zeros((32, 32), bool))
    loss = TraceLoss(resolve(sketch))
    with pytest.warns(pixray.PixrayWarning, match="custom_loss 'trace': the guide's picture of the prompt has no lines"):
        value = loss(LossContext(torch.rand(1, 3, 128, 128), 0, 1, None))
    assert value.item() == 0 and torch.isfinite(value)


def test_line_sketch_starts_along_an_init_images_lines_as_much_as_init_image_alpha_says(quick, tmp_path):
    path = tmp_path / "square.png"
    picture = Image.new("RGB", (64, 48), "white")
    picture.paste((200, 30, 30), (16, 12, 48, 36))  # a red block: its edge is the line
    picture.save(path)
    settings = {**quick, "drawer": "line_sketch", "init_image": str(path), "pixel_size": (16, 12), "strokes": 8}

    def on_the_edge(control):  # every point within one cell (4 pixels) of the block's edge
        x, y = control[..., 0], control[..., 1]
        near = ((x - 16).abs() <= 4) | ((x - 48).abs() <= 4) | ((y - 12).abs() <= 4) | ((y - 36).abs() <= 4)
        return bool((near & (x >= 12) & (x <= 52) & (y >= 8) & (y <= 40)).all())

    def start(alpha):
        return Session(resolve({**settings, "init_image_alpha": alpha})).drawer.inner.control.detach().cpu()

    half, at_random = start(128), start(0)
    assert on_the_edge(start(255)) and on_the_edge(half[:4]) and not on_the_edge(at_random)
    assert torch.equal(half[4:], at_random[4:])  # the other half where they were


def test_a_photos_soft_edges_become_thin_lines():
    from torchvision.transforms.functional import gaussian_blur as blur

    sprite = disc(size=32, radius=10, colour=(0.9, 0.6, 0.1))
    photo = blur(sprite[:, :3] + (1 - sprite[:, 3:]) * torch.tensor([0.9, 0.85, 0.75]).view(1, 3, 1, 1), 7, 2.0)
    assert not outline(torch.cat([photo, torch.ones_like(photo[:, :1])], 1), frame=False).any()  # too soft
    lines = edges(photo)
    ys, xs = np.nonzero(lines)
    radii = np.hypot(ys + 0.5 - 16, xs + 0.5 - 16)
    assert len(radii) >= 40 and np.abs(radii - 10).max() <= 1.5  # the disc's rim
    across_the_rim = lines[16, :]
    assert across_the_rim.sum() <= 4  # thin: one or two cells on each side
    assert not edges(torch.full((1, 3, 8, 8), 0.5)).any()


def block_photo(path, size=(160, 160)):
    """A blurred red block on a pale page: a photo whose lines are the block's edge."""
    from PIL import ImageFilter

    picture = Image.new("RGB", size, (225, 215, 200))
    picture.paste((200, 40, 30), (40, 40, 120, 120))
    picture.filter(ImageFilter.GaussianBlur(2)).save(path)
    return str(path)


def test_with_an_init_image_line_sketch_traces_the_images_lines_under_the_embedded_guide(sketch, tmp_path):
    from pixray.images import load_image_tensor

    photo = block_photo(tmp_path / "block.png")
    values = {**sketch, "init_image": photo, "pixel_size": None, "size": (160, 160)}
    settings = resolve(values)
    assert settings.custom_loss == ["trace:3.0"] and settings.init_noise != "outline"
    pixel = resolve({**sketch, "drawer": "pixel", "init_image": photo})
    assert pixel.custom_loss == [] and pixel.init_noise != "paper"  # the picture starts from the photo
    session = Session(settings)
    session.step()  # the loss finds its lines at the first step, in the session's init image
    trace = next(loss for loss in session.custom_losses if isinstance(loss, TraceLoss))
    lines = trace._lines[0][0, 0].numpy() > 0.5
    assert lines.shape == (32, 32)  # cells as wide as the 5-pixel strokes
    photo_cells = torch.nn.functional.interpolate(load_image_tensor(photo, (160, 160)), size=(32, 32), mode="area")
    assert np.array_equal(lines, edges(photo_cells))
    assert lines[8:24, 8].any() and not lines[16, 12:20].any()  # the block's left edge, not its inside
    # the lines are the photo's, so a prompt need not say where they are
    assert resolve({**values, "prompts": "a heart:-1", "custom_loss": ["trace"]}).custom_loss == ["trace"]
    assert resolve({**values, "prompts": "a heart:-1", "init_noise": "outline"}).init_noise == "outline"


def test_strokes_started_on_an_init_images_lines_stay_whole_under_the_trace_loss(sketch, tmp_path):
    from pixray.vector import bezier_polyline

    settings = resolve({**sketch, "init_image": block_photo(tmp_path / "block.png"), "pixel_size": None,
                        "size": (160, 160), "prompts": "a red love heart:0.00001", "custom_loss": ["trace:3"],
                        "strokes": 8, "iterations": 20})
    session = Session(settings)

    def length():
        points = bezier_polyline(session.drawer.control.detach())  # no pixel_size: the drawer itself
        return float((points[:, 1:] - points[:, :-1]).norm(dim=-1).sum())

    start = length()
    for _ in range(20):
        session.step()
    # lines as narrow as 4-pixel cells under 5-pixel strokes shortened them by 10-25 %, leaving gaps
    assert length() >= 0.97 * start


@pytest.fixture(scope="module")
def sprite_bank():
    from pixray.guide.bank import load_sprite_bank
    from pixray.perceptors import GUIDE_WEIGHTS
    return load_sprite_bank(GUIDE_WEIGHTS, "a test")


@pytest.mark.parametrize("prompt, pale", [("a spooky ghost", True), ("a fluffy cloud", True), ("a pirate skull", True),
                                          ("a shiny red apple", False), ("a black cat", False), ("a red ghost", False)])
def test_only_a_pale_thing_gets_its_outline_kept(sprite_bank, prompt, pale):
    """White, grey or black-and-white things show on white paper only by their outline; a coloured thing
    (the red ghost is tinted red) and a dark one show by themselves."""
    from pixray.guide.bank import pale_outline_target
    from pixray.perceptors import GUIDE_WEIGHTS
    prior, bank, guide = sprite_bank
    lines = pale_outline_target(bank, prior, GUIDE_WEIGHTS, guide, [prompt])
    assert (lines is not None) == pale
    if pale:
        assert lines.shape == (32, 32) and 30 <= lines.sum() <= 0.6 * lines.size


def test_a_pale_things_dark_parts_are_inked_whole(sprite_bank):
    """The skull's eye holes are dark in its picture: inked whole, not only their rims (an outline alone
    left them pale, and the guide filled them with rainbow specks, which are not dark ink)."""
    from pixray.guide.bank import DARK, pale_outline_target, retrieved_sprite
    from pixray.perceptors import GUIDE_WEIGHTS
    from pixray.tracing import outline
    prior, bank, guide = sprite_bank
    sprite = retrieved_sprite(bank, prior, GUIDE_WEIGHTS, guide, ["a pirate skull"])
    dark = ((sprite[0, :3].amax(0) < DARK) & (sprite[0, 3] > 0.5)).cpu().numpy()
    lines = pale_outline_target(bank, prior, GUIDE_WEIGHTS, guide, ["a pirate skull"])
    assert (dark & ~outline(sprite)).sum() >= 20  # the eye holes hold more than their rims
    assert (lines == (outline(sprite) | dark)).all()
    ghost = pale_outline_target(bank, prior, GUIDE_WEIGHTS, guide, ["a spooky ghost"])
    assert ghost.sum() < 0.45 * ghost.size  # a white thing is still mostly paper


def test_the_pale_outline_loss_pulls_ink_onto_a_pale_things_outline_and_is_zero_otherwise(quick):
    from pixray.losses.pale_outline import PaleOutlineLoss
    settings = resolve({**quick, "drawer": "pixel", "clip_models": EMBEDDED, "pixel_size": (32, 32),
                        "size": (128, 128), "prompts": "a spooky ghost", "custom_loss": ["pale_outline:10"],
                        "iterations": 30})
    assert settings.init_noise == "paper"
    session = Session(settings)
    first = session.step()["pale_outline"]
    for _ in range(29):
        last = session.step()["pale_outline"]
    assert last < 0.7 * first
    blank = LossContext(torch.ones(1, 3, 128, 128), 0, 1, None)
    assert PaleOutlineLoss(settings)(blank).item() == pytest.approx(1.0)  # no ink on the outline
    apple = PaleOutlineLoss(resolve({**quick, "clip_models": EMBEDDED, "prompts": "a shiny red apple"}))
    assert apple(blank).item() == 0 and apple._lines == []
    with_init = PaleOutlineLoss(settings)
    assert with_init._build(torch.device("cpu"), torch.ones(1, 3, 8, 8)) == []  # the picture starts from the user's


def test_the_pale_outline_counts_as_ink_only_what_is_dark_in_every_channel():
    """A pixel artist outlines a white thing in one dark colour: a green rim is dark to the trace loss
    (line_sketch's ink is black anyway) but barely ink to pale_outline."""
    from pixray.losses.pale_outline import PaleOutlineLoss
    green, black = torch.tensor([0.1, 0.7, 0.1]).view(1, 3, 1, 1), torch.zeros(1, 3, 1, 1)
    assert TraceLoss.ink(green).item() == pytest.approx(0.7)
    assert PaleOutlineLoss.ink(green).item() == pytest.approx(0.3)
    assert PaleOutlineLoss.ink(black).item() == TraceLoss.ink(black).item() == 1.0


def test_a_coloured_things_dark_parts_are_its_pupils_and_a_pale_thing_has_none(sprite_bank):
    from pixray.guide.bank import DARK, dark_parts_target, retrieved_sprite
    from pixray.perceptors import GUIDE_WEIGHTS
    prior, bank, guide = sprite_bank
    frog = retrieved_sprite(bank, prior, GUIDE_WEIGHTS, guide, ["a little green frog"])
    dark = dark_parts_target(bank, prior, GUIDE_WEIGHTS, guide, ["a little green frog"])
    assert not (dark & ~((frog[0, :3].amax(0) < DARK) & (frog[0, 3] > 0.5)).cpu().numpy()).any()
    assert 4 <= dark.sum() <= 0.05 * dark.size  # two pupils, not the green body
    opaque = frog[0, 3].cpu().numpy() > 0.5
    edge = opaque & ~np.pad(opaque, 1)[:-2, 1:-1] | opaque & ~np.pad(opaque, 1)[2:, 1:-1] \
        | opaque & ~np.pad(opaque, 1)[1:-1, :-2] | opaque & ~np.pad(opaque, 1)[1:-1, 2:]
    assert not (dark & edge).any()  # inside the silhouette: a dark rim would be dots around a misplaced thing
    rows = np.nonzero(dark)[0]
    assert rows.max() < 16  # up in the frog's eyes
    assert dark_parts_target(bank, prior, GUIDE_WEIGHTS, guide, ["a spooky ghost"]) is None  # pale_outline's
    assert not dark_parts_target(bank, prior, GUIDE_WEIGHTS, guide, ["a shiny red apple"]).any()


def test_the_dark_parts_loss_asks_for_ink_there_and_nowhere_else(quick):
    """One-sided: a blank page scores most, ink on the dark parts near 0, and ink elsewhere costs nothing,
    so the thing's own colours are the guide's to choose (a two-sided pull had paled a coloured thing's
    inside)."""
    from pixray.guide.bank import dark_parts_target, load_sprite_bank
    from pixray.losses.dark_parts import DarkPartsLoss
    from pixray.perceptors import GUIDE_WEIGHTS
    settings = resolve({**quick, "drawer": "pixel", "clip_models": EMBEDDED, "pixel_size": (32, 32),
                        "size": (128, 128), "prompts": "a little green frog", "iterations": 30})
    assert "dark_parts:1.0" in settings.custom_loss  # the pixel drawer's default with the guide
    loss = DarkPartsLoss(settings)
    blank = loss(LossContext(torch.ones(1, 3, 128, 128), 0, 1, None)).item()
    assert blank > 0.5 and loss(LossContext(torch.zeros(1, 3, 128, 128), 0, 1, None)).item() == 0
    prior, bank, guide = load_sprite_bank(GUIDE_WEIGHTS, "a test")
    dark = torch.from_numpy(dark_parts_target(bank, prior, GUIDE_WEIGHTS, guide, ["a little green frog"]))
    page = torch.ones(1, 3, 32, 32)
    page[:, :, dark] = 0
    inked = torch.nn.functional.interpolate(page, size=(128, 128), mode="nearest")
    assert loss(LossContext(inked, 0, 1, None)).item() < 0.35 * blank  # only the blurred targets' tails are unmet
    page[:, 1] = torch.where(dark, 0.0, 0.8)  # and the rest green: no cost for its colour
    green = torch.nn.functional.interpolate(page, size=(128, 128), mode="nearest")
    assert loss(LossContext(green, 0, 1, None)).item() == pytest.approx(loss(LossContext(inked, 0, 1, None)).item())
    session = Session(settings)
    first = session.step()["dark_parts"]
    for _ in range(29):
        last = session.step()["dark_parts"]
    assert last < 0.7 * first
    apple = DarkPartsLoss(resolve({**quick, "clip_models": EMBEDDED, "prompts": "a shiny red apple"}))
    assert apple(LossContext(torch.ones(1, 3, 128, 128), 0, 1, None)).item() == 0 and apple._lines == []
    assert DarkPartsLoss(settings)._build(torch.device("cpu"), torch.ones(1, 3, 8, 8)) == []  # an init image


def test_a_missing_sprite_bank_is_one_line_naming_pale_outline_before_models_load(quick, monkeypatch, tmp_path):
    monkeypatch.setattr("pixray.guide.prior.PRIOR_WEIGHTS", tmp_path / "gone.pt")
    settings = {**quick, "drawer": "pixel", "clip_models": EMBEDDED, "prompts": "a spooky ghost"}
    with pytest.raises(SettingsError, match="setting 'custom_loss': 'pale_outline' needs the sprite prior's bank"):
        resolve(settings)
    assert resolve({**settings, "custom_loss": ["paper"]}).custom_loss == ["paper"]  # not asked for: no check
