import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from pixray.export import indexed_image
from pixray.palettes import load_palette
from pixray.quantize import DITHERS, bayer_matrix, quantize, srgb_to_oklab, to_space

images = arrays(np.uint8, st.tuples(st.integers(1, 12), st.integers(1, 12), st.just(3)))
palettes = arrays(np.uint8, st.tuples(st.integers(1, 24), st.just(3)), unique=False)


@settings(max_examples=60, deadline=None)
@given(image=images, palette=palettes, dither=st.sampled_from(DITHERS),
       space=st.sampled_from(["oklab", "rgb", "lightness", "auto"]))
def test_every_output_pixel_is_a_palette_colour(image, palette, dither, space):
    palette = np.unique(palette, axis=0)
    indices = quantize(image, palette, dither, space)
    assert indices.shape == image.shape[:2]
    assert indices.min() >= 0 and indices.max() < len(palette)
    # through the indexed PNG a user gets: decode the file and compare colour sets
    buffer = io.BytesIO()
    indexed_image(indices, palette, None).save(buffer, format="PNG")
    decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")).reshape(-1, 3)
    assert {tuple(c) for c in decoded} <= {tuple(c) for c in palette}


@settings(max_examples=40, deadline=None)
@given(image=images, palette=palettes, space=st.sampled_from(["oklab", "rgb"]))
def test_without_dither_each_pixel_gets_its_nearest_colour(image, palette, space):
    palette = np.unique(palette, axis=0)
    indices = quantize(image, palette, "none", space)
    pixels = to_space(image.reshape(-1, 3) / 255, space)
    pal = to_space(palette / 255, space)
    dists = ((pixels[:, None] - pal[None]) ** 2).sum(-1)
    chosen = dists[np.arange(len(pixels)), indices.reshape(-1)]
    assert np.allclose(chosen, dists.min(1))


def test_oklab_reference_values():
    lab = srgb_to_oklab(np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]))
    assert np.allclose(lab[0], [1, 0, 0], atol=1e-3) and np.allclose(lab[1], 0, atol=1e-6)
    assert np.allclose(lab[2], [0.6279, 0.2249, 0.1258], atol=1e-3)  # Ottosson's sRGB red


def test_bayer_matrices_are_permutations_of_thresholds():
    assert np.allclose(bayer_matrix(2), (np.array([[0, 2], [3, 1]]) + 0.5) / 4 - 0.5)
    for n in (2, 4, 8):
        values = np.sort(bayer_matrix(n).ravel())
        assert np.allclose(values, (np.arange(n * n) + 0.5) / (n * n) - 0.5)


BW = np.array([[0, 0, 0], [255, 255, 255]], dtype=np.uint8)


def gradient(width=64, height=16):
    row = np.linspace(0, 255, width).round().astype(np.uint8)
    return np.repeat(np.repeat(row[None, :, None], height, 0), 3, 2)


def lightness(values):
    """OKLab lightness of grey levels 0-255: the fraction of white a perceptual dither should show."""
    return srgb_to_oklab(np.repeat(values[:, None] / 255, 3, 1))[:, 0]


def test_no_dither_splits_a_gradient_once():
    rows = quantize(gradient(), BW, "none")
    assert np.all(rows == rows[0]) and np.all(np.diff(rows[0]) >= 0)
    assert rows[0, 0] == 0 and rows[0, -1] == 1 and np.count_nonzero(np.diff(rows[0])) == 1


@pytest.mark.parametrize("n", [2, 4, 8])
def test_bayer_pattern_tiles_and_tracks_the_gradient(n):
    flat = np.full((16, 16, 3), 110, np.uint8)
    pattern = quantize(flat, BW, f"bayer{n}")
    assert np.array_equal(pattern, np.roll(pattern, n, axis=0)) and np.array_equal(pattern, np.roll(pattern, n, 1))
    assert 0 < pattern.mean() < 1
    ramp = quantize(gradient(64, 8 * n), BW, f"bayer{n}")
    blocks = ramp.reshape(ramp.shape[0], -1, n).mean(axis=(0, 2))
    assert np.all(np.diff(blocks) >= -1e-9)
    assert ramp[:, 0].max() == 0 and ramp[:, -1].min() == 1  # pure ends stay pure
    expected = lightness(gradient(64, 1)[0, :, 0].astype(float)).reshape(-1, n).mean(1)
    assert np.abs(blocks - expected).max() < 0.15


@pytest.mark.parametrize("dither", ["floyd-steinberg", "atkinson"])
def test_error_diffusion_matches_lightness_on_average(dither):
    image = gradient(64, 32)
    result = quantize(image, BW, dither)
    blocks = result.reshape(32, 8, 8).mean(axis=(0, 2))
    expected = lightness(image[0, :, 0].astype(float)).reshape(8, 8).mean(1)
    assert np.abs(blocks - expected).max() < 0.15
    assert result[:, 0].max() == 0 and result[:, -1].min() == 1  # pure ends stay pure


def test_unknown_dither_is_rejected():
    with pytest.raises(ValueError, match="dither 'sierra' is not one of none"):
        quantize(gradient(), BW, "sierra")


@settings(max_examples=60, deadline=None)
@given(palette=arrays(np.uint8, st.tuples(st.integers(1, 16), st.just(3))), data=st.data(),
       dither=st.sampled_from(DITHERS), space=st.sampled_from(["oklab", "rgb"]))
def test_an_image_made_of_palette_colours_comes_back_unchanged(palette, data, dither, space):
    palette = np.unique(palette, axis=0)
    height, width = data.draw(st.integers(1, 12)), data.draw(st.integers(1, 12))
    chosen = data.draw(arrays(np.int64, (height, width), elements=st.integers(0, len(palette) - 1)))
    indices = quantize(palette[chosen], palette, dither, space)
    assert np.array_equal(palette[indices], palette[chosen])


@pytest.mark.parametrize("name", ["pico8", "grayscale4", "gameboy", "c64"])
@pytest.mark.parametrize("n", [2, 4, 8])
def test_bayer_keeps_flat_blocks_of_each_palette_colour(name, n):
    palette = load_palette(name).array()
    blocks = np.repeat(palette[:, None, None, :], 8, 1).repeat(8, 2).reshape(-1, 8, 3)  # 8x8 of each colour
    assert np.array_equal(palette[quantize(blocks, palette, f"bayer{n}")], blocks)


def test_nearest_scales_to_large_images_and_palettes():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    palette = rng.integers(0, 256, (256, 3), dtype=np.uint8)
    indices = quantize(image, palette, "bayer4")
    assert indices.shape == (300, 400) and indices.max() < 256


def test_ramps_of_shades_are_told_from_palettes_of_colours():
    from pixray.quantize import is_ramp
    assert [is_ramp(load_palette(n).array()) for n in ("gameboy", "1bit", "grayscale4")] == [True] * 3
    assert [is_ramp(load_palette(n).array()) for n in ("pico8", "c64", "nes")] == [False] * 3


def test_a_light_green_thing_on_white_keeps_its_shape_on_the_game_boy_ramp():
    picture = np.full((8, 8, 3), 255, np.uint8)                  # white paper
    picture[2:6, 2:6] = (150, 215, 120)                          # a light green frog
    picture[3, 3] = (30, 90, 40)                                 # its dark eye
    gameboy = load_palette("gameboy").array()
    by_colour = quantize(picture, gameboy, "none", "oklab")
    assert by_colour[3, 2] == by_colour[0, 0]                    # nearest colour: the frog is the paper's shade
    by_light = quantize(picture, gameboy)                        # auto: a ramp maps lightness, stretched
    lightness = srgb_to_oklab(gameboy / 255)[:, 0]
    assert by_light[0, 0] == lightness.argmax() and by_light[3, 3] == lightness.argmin()
    assert by_light[3, 2] != by_light[0, 0]


def test_lightness_stretch_uses_the_visible_pixels_and_leaves_palette_pictures_alone():
    greys = load_palette("grayscale4").array()
    mid = np.array([[[100] * 3, [140] * 3], [[100] * 3, [140] * 3]], np.uint8)
    assert set(greys[quantize(mid, greys)].reshape(-1, 3)[:, 0]) == {greys[:, 0].min(), greys[:, 0].max()}
    with_black = mid.copy()
    with_black[0, 0] = 0                                          # a black pixel, but transparent
    visible = np.ones((2, 2), bool)
    visible[0, 0] = False
    assert np.array_equal(quantize(with_black, greys, visible=visible)[:, 1], quantize(mid, greys)[:, 1])
    inner = greys[1:3][np.array([[0, 1], [1, 0]])]               # already palette colours, the middle shades
    assert np.array_equal(greys[quantize(inner, greys)], inner)


@pytest.mark.parametrize("name", ["pico8", "gameboy", "c64"])
@pytest.mark.parametrize("space", ["auto", "oklab", "rgb", "lightness"])
def test_the_loop_snaps_to_the_colour_the_export_picks(name, space):
    """The soft palette loss and the lookup filter choose each pixel's palette colour as the export does."""
    import torch

    from types import SimpleNamespace

    from pixray.losses.palette import loop_space, nearest_palette_index
    palette = load_palette(name).array()
    pixels = np.random.default_rng(0).integers(0, 256, (400, 3), dtype=np.uint8)
    resolved = loop_space(SimpleNamespace(palette=name, palette_space=space))
    chosen = nearest_palette_index(torch.from_numpy(pixels / 255).float(), torch.from_numpy(palette / 255).float(),
                                   resolved)
    assert np.array_equal(chosen.numpy(), quantize(pixels[None], palette, "none", space)[0])
