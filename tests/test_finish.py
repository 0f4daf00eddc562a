"""The pixel-art finish: automatic palette, cleanup pass, outline and background, Gumbel palettes,
pixel-art metrics and `pixray lint`, grid detection in `pixray pixelate`."""

import io
import json

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter

import pixray
from pixray.cleanup import background_mask, outline_mask, remove_stipple, remove_strays
from pixray.cli import main
from pixray.errors import SettingsError
from pixray.metrics import count_jaggies, detect_grid, measure, orphan_ratio, speckle_ratio
from pixray.palette_fit import fit_palette
from pixray.palettes import load_palette
from pixray.pixelation import pixelate
from pixray.quantize import srgb_to_oklab
from pixray.session import Session
from pixray.settings import resolve

PALETTE = np.array([[20, 20, 30], [240, 200, 40], [60, 110, 220], [250, 250, 250], [200, 40, 40]], np.uint8)


def fixture_sprite(size=16, seed=0) -> np.ndarray:
    """Blocky random pixel art: 2x2 blobs of five colours with a few single pixels, (size,size) indices."""
    rng = np.random.default_rng(seed)
    blobs = rng.integers(0, len(PALETTE), (size // 2, size // 2)).repeat(2, 0).repeat(2, 1)
    singles = rng.random((size, size)) < 0.08
    return np.where(singles, rng.integers(0, len(PALETTE), (size, size)), blobs)


def rgb(indices: np.ndarray) -> Image.Image:
    return Image.fromarray(PALETTE[indices])


def upscale(image: Image.Image, scale: int, crop=(0, 0), blur=0.0, quality=None) -> Image.Image:
    big = image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)
    big = big.crop((crop[0], crop[1], big.width, big.height))
    if blur:
        big = big.filter(ImageFilter.GaussianBlur(blur))
    if quality:
        buffer = io.BytesIO()
        big.save(buffer, "JPEG", quality=quality)
        big = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    return big


# ---- metrics on hand-made fixtures ------------------------------------------------------------------

def test_metrics_of_hand_made_pictures():
    flat = measure(Image.new("RGB", (8, 8), (10, 200, 30)))
    assert (flat.colors, flat.orphan_ratio, flat.partial_alpha, flat.jaggies) == (1, 0.0, 0, 0)
    checker = np.indices((6, 6)).sum(0) % 2
    board = measure(rgb(checker))
    assert board.colors == 2 and board.orphan_ratio == 1.0
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 3] = [[0, 255, 128, 255]] * 4
    assert measure(Image.fromarray(rgba, "RGBA")).partial_alpha == 4


def test_orphans_count_cells_without_a_same_coloured_four_neighbour():
    labels = np.zeros((5, 5), int)
    labels[2, 2] = 1           # a lone cell: an orphan
    labels[0, 3:5] = 2         # a pair: not orphans
    assert orphan_ratio(labels) == pytest.approx(1 / 25)


def test_jaggies_are_the_corners_of_l_steps_on_one_pixel_lines():
    clean = np.zeros((6, 6), int)
    for i in range(6):
        clean[i, i] = 1        # a clean 1-1 diagonal: no doubles
    assert count_jaggies(clean) == 0
    doubled = clean.copy()
    doubled[0, 1] = doubled[2, 3] = 1   # two extra pixels turn two steps into L corners
    assert count_jaggies(doubled) == 2


def test_an_upscale_measures_like_its_sprite_and_mixed_cells_are_found():
    sprite = rgb(fixture_sprite())
    small, big = measure(sprite), measure(upscale(sprite, 5, crop=(2, 1)))  # partial edge cells of 3+ px stay
    assert big.cell == 5 and big.offset == (3, 4) and (big.width, big.height) == (16, 16)
    assert (big.colors, big.orphan_ratio, big.jaggies) == (small.colors, small.orphan_ratio, small.jaggies)
    assert big.mixed_cells == 0.0
    uneven = measure(sprite.resize((16 * 5 + 3, 16 * 5 + 3), Image.Resampling.NEAREST))
    assert uneven.cell == 1 or uneven.mixed_cells > 0


@pytest.mark.parametrize("scale", range(2, 13))
def test_grid_detection_finds_the_cell_through_blur_and_jpeg(scale):
    sprite = rgb(fixture_sprite(seed=scale))
    crop = (scale // 2, scale - 1)
    assert detect_grid(upscale(sprite, scale, crop)).cell == scale
    # JPEG's 2x2 chroma subsampling straddles 2-pixel cells at an odd offset: scale 2 gets the blur alone
    grid = detect_grid(upscale(sprite, scale, crop, blur=min(0.5, scale / 8), quality=80 if scale > 2 else None))
    assert grid.cell == scale and grid.offset == ((scale - crop[0]) % scale, (scale - crop[1]) % scale)


def test_no_grid_in_native_sprites_or_smooth_pictures():
    assert detect_grid(rgb(fixture_sprite(32))).cell == 1
    ramp = np.linspace(0, 255, 200)[None, :, None].repeat(120, 0).repeat(3, 2)
    wave = (ramp * (0.6 + 0.4 * np.sin(np.arange(120) / 7)[:, None, None])).astype(np.uint8)
    assert detect_grid(Image.fromarray(wave)).cell == 1
    assert detect_grid(rgb(fixture_sprite(32)).resize((48, 48), Image.Resampling.BILINEAR)).cell == 1


# ---- pixelate: upscaled pixel art comes back ----------------------------------------------------------

def test_pixelate_restores_blurred_jpeg_pixel_art_cell_for_cell():
    indices = fixture_sprite(seed=3)
    art = pixelate(upscale(rgb(indices), 7, crop=(3, 1), blur=0.5, quality=85))
    assert art.grid.cell == 7 and art.sprite.size == (16, 16)
    back = np.asarray(art.sprite.convert("RGB")).astype(int)
    assert np.abs(back - PALETTE[indices].astype(int)).max() <= 16   # JPEG shifts colours a little
    assert len(art.palette) == len(np.unique(indices))               # one colour per original colour


def test_pixelate_without_a_grid_keeps_its_default_width(tmp_path):
    photo = np.random.default_rng(0).integers(0, 256, (90, 160, 3), dtype=np.uint8)
    art = pixelate(Image.fromarray(photo))
    assert art.grid.cell == 1 and art.sprite.width == 64


def test_pixelate_command_reports_the_grid(tmp_path, capsys):
    upscale(rgb(fixture_sprite()), 6).save(tmp_path / "big.png")
    assert main(["pixelate", str(tmp_path / "big.png"), str(tmp_path / "out.png")]) == 0
    assert "16x16 cells" in capsys.readouterr().out and Image.open(tmp_path / "out_sprite.png").size == (16, 16)
    assert main(["pixelate", str(tmp_path / "big.png"), str(tmp_path / "o2.png"), "--pixel_size", "auto", "3"]) == 2


# ---- cleanup -------------------------------------------------------------------------------------------

def test_cleanup_keeps_lines_and_eyes_and_removes_specks():
    face = np.full((9, 9), 1)          # yellow
    face[1, 1:8] = 0                    # a 1-pixel dark line
    for i in range(5):
        face[3 + i, 1 + i] = 2          # a 1-pixel diagonal
    face[4, 6] = 0                      # an eye: dark, alone, on uniform yellow
    cleaned, _ = remove_strays(face, None, PALETTE)
    assert np.array_equal(cleaned, face)
    noisy = face.copy()
    noisy[7, 2] = 3                     # white on yellow next to the diagonal: not uniform around → speck
    near = np.vstack([PALETTE, [[235, 195, 50]]])
    noisy[6, 7] = 5                     # a slightly different yellow: a speck however uniform around it
    cleaned, _ = remove_strays(noisy, None, near)
    assert cleaned[6, 7] == 1 and cleaned[7, 2] != 3
    assert np.array_equal(np.delete(cleaned.ravel(), [7 * 9 + 2, 6 * 9 + 7]),
                          np.delete(face.ravel(), [7 * 9 + 2, 6 * 9 + 7]))


def test_stipple_is_flattened_but_diagonal_lines_and_a_lone_eye_stay():
    field = np.full((14, 14), 4)        # red
    specks = [(y, x + y % 4) for y in (1, 3, 5) for x in (1, 5, 9)]
    for y, x in specks:
        field[y, x] = 1                 # yellow cells every other row through the red, none touching: stipple
    for i in range(4):
        field[7 + i, 6 + i] = 0         # a 1-pixel dark diagonal line, four cells
    field[9, 1] = 0                     # an eye, alone, far from the stipple
    cleaned, _ = remove_stipple(field, None, PALETTE)
    assert all(cleaned[y, x] == 4 for y, x in specks)
    assert all(cleaned[7 + i, 6 + i] == 0 for i in range(4)) and cleaned[9, 1] == 0
    unchanged = np.ones(field.shape, bool)
    unchanged[tuple(np.array(specks).T)] = False
    assert np.array_equal(cleaned[unchanged], field[unchanged])


def test_stipple_is_flattened_in_a_users_palette_not_in_colours_fitted_to_the_picture():
    from types import SimpleNamespace

    from pixray.export import _finish_cells
    field = np.full((14, 14), 4)
    specks = [(y, x + y % 4) for y in (1, 3, 5) for x in (1, 5, 9)]
    for y, x in specks:
        field[y, x] = 1
    settings = dict(background="keep", cleanup=True, dither="none", outline=None)
    users, _ = _finish_cells(field.copy(), None, PALETTE, SimpleNamespace(palette="pico8", **settings), "oklab")
    fitted, _ = _finish_cells(field.copy(), None, PALETTE, SimpleNamespace(palette=None, **settings), "oklab")
    assert all(users[y, x] == 4 for y, x in specks)
    assert np.array_equal(fitted, remove_strays(field.copy(), None, PALETTE)[0])  # strays only


def test_specks_count_orphans_that_stand_out_not_the_next_shade():
    ramp = np.repeat(np.arange(8)[None] * 6 + 100, 8, 0)          # grey shades 6 levels apart, in columns
    shades = np.stack([ramp] * 3, -1).astype(np.uint8)
    shades[3, 3] = shades[3, 4]                                     # the next shade along: no speck
    alpha = np.full((8, 8, 1), 255, np.uint8)
    assert speckle_ratio(np.concatenate([shades, alpha], -1)) == 0
    shades[5, 5] = (255, 255, 0)                                    # yellow among greys: a speck
    assert speckle_ratio(np.concatenate([shades, alpha], -1)) == pytest.approx(1 / 64)


def test_background_removal_and_outline():
    sprite = np.full((8, 8), 3)        # white paper
    sprite[2:6, 2:6] = 4                # a red block
    sprite[3, 3] = 3                    # a white highlight inside: not background
    backdrop = background_mask(sprite, None)
    assert backdrop.sum() == 64 - 16 and not backdrop[3, 3]
    ring = outline_mask(~backdrop)
    assert ring.sum() == 16 and ring[1, 2] and not ring[1, 1]   # 4-connected ring, corners left open


def test_a_run_ends_in_its_own_palette_with_an_exact_enlargement(quick, tmp_path):
    image = pixray.run(**{**quick, "colors": 6})
    out = tmp_path / "run"
    sprite = Image.open(out / "output_sprite.png")
    colours = {c for _, c in sprite.convert("RGB").getcolors()}
    assert len(colours) <= 6 and colours == set(load_palette(str(out / "palette.hex")).colors)
    assert set(load_palette(str(out / "palette.gpl")).colors) == colours
    cells = np.asarray(sprite.convert("RGB"))
    assert np.array_equal(np.asarray(image.convert("RGB")), cells.repeat(4, 0).repeat(4, 1))
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["colors"] == len(colours) and metrics["width"] == 16 and metrics["partial_alpha"] == 0


def test_colors_zero_keeps_every_colour_and_writes_no_palette(quick, tmp_path):
    pixray.run(**{**quick, "colors": 0, "iterations": 2})
    assert not (tmp_path / "run" / "palette.hex").exists()


def test_the_palette_is_fitted_during_the_run(quick):
    session = Session(resolve({**quick, "colors": 5, "colors_fit": "during"}))
    assert session.fits_palette and session.palette is None
    losses = session.step()
    assert session.palette.shape[0] <= 5 and "palette" in losses
    at_the_end = Session(resolve({**quick, "colors": 5}))
    assert not at_the_end.fits_palette and "palette" not in at_the_end.step()


def test_transparent_sprite_with_background_removed_gets_an_outline(quick, tmp_path):
    pixray.run(**{**quick, "transparent": True, "outline": "auto", "colors": 8, "iterations": 2})
    rgba = np.asarray(Image.open(tmp_path / "run" / "output_sprite.png").convert("RGBA"))
    assert set(np.unique(rgba[..., 3])) <= {0, 255}
    opaque = rgba[..., 3] == 255
    edge = outline_mask(~opaque) & opaque          # opaque cells that touch a transparent one
    assert edge.any()
    lightness = srgb_to_oklab(rgba[..., :3] / 255)[..., 0]
    assert (lightness[edge] == lightness[opaque].min()).all() and len({tuple(c) for c in rgba[edge][:, :3]}) == 1
    pixray.run(**{**quick, "background": "remove", "outline": "#000000", "palette": "pico8", "iterations": 2,
                  "outdir": str(tmp_path / "b")})
    sprite = Image.open(tmp_path / "b" / "output_sprite.png").convert("RGBA")
    assert all(c[:3] in load_palette("pico8").colors for _, c in sprite.getcolors() if c[3])


def test_fit_palette_is_exact_for_few_colours_and_keeps_a_small_distinct_detail():
    few = PALETTE[fixture_sprite()].reshape(-1, 3)
    assert {tuple(c) for c in fit_palette(few, 16)} == {tuple(c) for c in PALETTE}
    rng = np.random.default_rng(0)
    greens = np.clip(rng.normal([60, 160, 60], 12, (990, 3)), 0, 255).astype(np.uint8)
    eye = np.tile([[10, 10, 10]], (10, 1)).astype(np.uint8)
    palette = fit_palette(np.vstack([greens, eye]), 4)
    assert len(palette) == 4 and np.abs(palette.astype(int) - 10).sum(1).min() < 15
    assert np.array_equal(palette, fit_palette(np.vstack([greens, eye]), 4))   # deterministic


# ---- Gumbel-softmax palette --------------------------------------------------------------------------

def test_gumbel_palette_anneals_and_exports_palette_colours(quick, tmp_path):
    session = Session(resolve({**quick, "palette": "pico8", "palette_mode": "gumbel", "iterations": 3}))
    start = session.drawer.temperature()
    session.step()
    assert session.drawer.cells.grad is not None and session.drawer.cells.grad.abs().sum() > 0
    session.step()
    assert session.drawer.temperature() < start
    result = session.run()
    pico = set(load_palette("pico8").colors)
    assert {c for _, c in result.image.convert("RGB").getcolors()} <= pico


# ---- settings --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("values, message", [
    (dict(colors=1), r"'colors': 1 is out of range; allowed: 0 \(every colour\) or 2 to 256"),
    (dict(colors=300), r"'colors'"),
    (dict(outline="auto"), r"'outline': an outline goes around a transparent sprite; set transparent=true or "
                           r"background=remove"),
    (dict(outline="not-a-colour", transparent=True), r"'outline': .*allowed: auto or a colour"),
    (dict(cleanup=True, dither="bayer4", palette="pico8"), r"'cleanup': removing stray pixels would erase"),
    (dict(background="erase"), r"'background': 'erase' is not one of keep, remove"),
    (dict(palette_mode="gumbel", drawer="clipdraw", palette="pico8"), r"'palette_mode': 'gumbel' does not work"),
    (dict(palette_mode="hard"), r"'palette_mode': 'hard' needs a palette"),
    (dict(colors_fit="sometimes"), r"'colors_fit': 'sometimes' is not one of end, during"),
])
def test_finish_settings_are_checked(values, message):
    with pytest.raises(SettingsError, match=message):
        resolve({"prompts": "x", "clip_models": "pixray-tiny:random", **values})


def test_dithering_skips_the_default_cleanup(quick, tmp_path):
    pixray.run(**{**quick, "palette": "pico8", "dither": "bayer4", "iterations": 1})  # no error: cleanup is skipped


# ---- lint ------------------------------------------------------------------------------------------------

def test_lint_passes_clean_pixel_art_and_flags_noise(tmp_path, capsys):
    clean = np.zeros((16, 16), int)
    clean[3:10, 5:12] = 2
    rgb(clean).resize((64, 64), Image.Resampling.NEAREST).save(tmp_path / "clean.png")
    noise = np.random.default_rng(0).integers(0, 256, (24, 24, 3), dtype=np.uint8)
    Image.fromarray(noise).save(tmp_path / "noise.png")
    assert main(["lint", str(tmp_path / "clean.png")]) == 0
    assert "4-pixel cells" in capsys.readouterr().out
    assert main(["lint", "--json", str(tmp_path / "noise.png")]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["colors"] > 500 and report["orphan_ratio"] > 0.9 and report["speckle_ratio"] > 0.5
    assert len(report["warnings"]) == 3
    assert main(["lint", str(tmp_path / "missing.png")]) == 2


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_readme_main_command_writes_a_sprite_that_passes_lint(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("pixray.perceptors.weights_available", lambda spec: False)  # offline, no weights
    out = tmp_path / "apple"
    assert main(["--prompts", "a red apple #pixelart", "--quality", "draft", "--outdir", str(out)]) == 0
    capsys.readouterr()
    assert main(["lint", str(out / "output_sprite.png")]) == 0, capsys.readouterr().out
    assert main(["lint", str(out / "output.png")]) == 0, capsys.readouterr().out
