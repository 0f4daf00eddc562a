"""Exact quantisation to a palette, with dithering, in a perceptual colour space (OKLab by default; by
lightness for a ramp of shades such as the Game Boy's).

Every pixel of the result is a palette colour: `quantize` returns palette indices, so exactness
holds by construction. Dithering works on whatever it is given; for pixel art pass the native
sprite (one pixel per cell) so the pattern lives on the grid, not inside cells.
"""

from __future__ import annotations

import numpy as np

DITHERS = ("none", "floyd-steinberg", "atkinson", "bayer2", "bayer4", "bayer8")
SPACES = ("auto", "oklab", "rgb", "lightness")
# A palette whose colours all lie this close (OKLab a,b) to their mean hue is a ramp of shades of one
# colour (Game Boy greens, greys, 1-bit; c64's 16 colours spread 0.14, pico8's 0.26). Nearest colour
# maps a picture onto a ramp by whichever shade is least far off in hue as well, so a light green frog
# on white paper takes the paper's shade and vanishes; a Game Boy conversion maps lightness instead.
RAMP_SPREAD = 0.08

# Error-diffusion kernels: (dy, dx, share of the error).
_KERNELS = {
    "floyd-steinberg": [(0, 1, 7 / 16), (1, -1, 3 / 16), (1, 0, 5 / 16), (1, 1, 1 / 16)],
    # Atkinson spreads only 6/8 of the error: contrast stays high, as on the original Macintosh.
    "atkinson": [(0, 1, 1 / 8), (0, 2, 1 / 8), (1, -1, 1 / 8), (1, 0, 1 / 8), (1, 1, 1 / 8), (2, 0, 1 / 8)],
}


# Björn Ottosson's published OKLab matrices (for row vectors): linear sRGB → LMS, cube-rooted LMS → Lab.
LINEAR_TO_LMS = np.array([[0.4122214708, 0.2119034982, 0.0883024619],
                          [0.5363325363, 0.6806995451, 0.2817188376],
                          [0.0514459929, 0.1073969566, 0.6299787005]])
LMS_TO_OKLAB = np.array([[0.2104542553, 1.9779984951, 0.0259040371],
                         [0.7936177850, -2.4285922050, 0.7827717662],
                         [-0.0040720468, 0.4505937099, -0.8086757660]])


def srgb_to_oklab(rgb: np.ndarray) -> np.ndarray:
    """sRGB in [0,1] (...,3) → OKLab."""
    rgb = np.asarray(rgb, dtype=np.float64)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return np.cbrt(linear @ LINEAR_TO_LMS) @ LMS_TO_OKLAB


def is_ramp(palette: np.ndarray) -> bool:
    """Are the (K,3) uint8 palette's colours shades of one hue (or greys)?"""
    ab = srgb_to_oklab(np.asarray(palette, dtype=np.float64) / 255)[:, 1:]
    return bool(np.sqrt(((ab - ab.mean(0)) ** 2).sum(1)).max() <= RAMP_SPREAD)


def resolve_space(space: str, palette: np.ndarray) -> str:
    """auto → lightness for a ramp of shades, else oklab."""
    if space != "auto":
        return space
    return "lightness" if is_ramp(palette) else "oklab"


def space_for(space: str, palette_given: bool) -> str:
    """auto maps onto a ramp by lightness only when the ramp is the user's palette; colours fitted to the
    picture are its own, mapped by nearest colour."""
    return "oklab" if space == "auto" and not palette_given else space


def to_space(rgb01: np.ndarray, space: str) -> np.ndarray:
    """(...,3) sRGB in [0,1] → (...,3) coordinates whose squared distances choose the nearest colour;
    lightness keeps three columns (L, 0, 0) so dithering works alike. `space` must be resolved."""
    if space == "rgb":
        return np.asarray(rgb01, dtype=np.float64)
    lab = srgb_to_oklab(rgb01)
    return lab * np.array([1.0, 0.0, 0.0]) if space == "lightness" else lab


def stretch_lightness(pixels: np.ndarray, pal: np.ndarray, visible: np.ndarray | None = None) -> np.ndarray:
    """Lightness coordinates of a picture with its range (of the visible pixels) stretched onto the
    palette's, so its lightest and darkest parts use the ramp's ends."""
    values = pixels[..., 0] if visible is None else pixels[..., 0][visible]
    if not values.size:
        return pixels
    low, high = values.min(), values.max()  # not percentiles: a sprite and its enlargement map alike
    if high - low < 1e-6:
        return pixels
    top, bottom = pal[:, 0].max(), pal[:, 0].min()
    stretched = pixels.copy()
    stretched[..., 0] = np.clip((pixels[..., 0] - low) / (high - low), 0, 1) * (top - bottom) + bottom
    return stretched


# Rows compared per block in `nearest`: memory stays ~CHUNK_ELEMENTS floats for any image and palette.
CHUNK_ELEMENTS = 1 << 21


def _squared_distances(colors: np.ndarray, palette: np.ndarray) -> np.ndarray:
    return ((colors[:, None, :] - palette[None, :, :]) ** 2).sum(-1)


def _blocks(count: int, palette_size: int) -> tuple[range, int]:
    step = max(1, CHUNK_ELEMENTS // max(1, 3 * palette_size))
    return range(0, count, step), step


def nearest(colors: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Index of the nearest palette row for each row of `colors` (both (N,3) in the same space).
    Exact differences (no |a|²-2ab+|b|² shortcut, which puts identical colours ~1e-4 apart), in blocks."""
    starts, step = _blocks(len(colors), len(palette))
    return np.concatenate([_squared_distances(colors[i:i + step], palette).argmin(1) for i in starts]
                          or [np.zeros(0, dtype=np.int64)])


def two_nearest(colors: np.ndarray, palette: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the nearest and the second-nearest palette row for each row of `colors`."""
    if len(palette) < 2:
        zeros = np.zeros(len(colors), dtype=np.int64)
        return zeros, zeros
    starts, step = _blocks(len(colors), len(palette))
    firsts, seconds = [], []
    for i in starts:
        dists = _squared_distances(colors[i:i + step], palette)
        first = dists.argmin(1)
        dists[np.arange(len(first)), first] = np.inf
        firsts.append(first)
        seconds.append(dists.argmin(1))
    return np.concatenate(firsts), np.concatenate(seconds)


def bayer_matrix(n: int) -> np.ndarray:
    """n×n ordered-dither thresholds in (-0.5, 0.5), n a power of two."""
    m = np.zeros((1, 1))
    while m.shape[0] < n:
        m = np.block([[4 * m, 4 * m + 2], [4 * m + 3, 4 * m + 1]])
    return (m + 0.5) / (n * n) - 0.5


def _ordered(pixels: np.ndarray, pal: np.ndarray, n: int) -> np.ndarray:
    """Ordered dither between each pixel's two nearest palette colours: a pixel a fraction t of the way
    from its nearest colour towards the next shows the next one where the Bayer threshold is below t.
    A pixel that already is a palette colour (t = 0) keeps it everywhere."""
    height, width = pixels.shape[:2]
    flat = pixels.reshape(-1, 3)
    first, second = two_nearest(flat, pal)
    towards = pal[second] - pal[first]
    length = (towards ** 2).sum(1)
    t = ((flat - pal[first]) * towards).sum(1) / np.where(length > 0, length, 1)
    thresholds = np.tile(bayer_matrix(n) + 0.5, (height // n + 1, width // n + 1))[:height, :width].reshape(-1)
    return np.where(np.clip(t, 0, 1) > thresholds, second, first).reshape(height, width)


def quantize(image: np.ndarray, palette: np.ndarray, dither: str = "none", space: str = "auto",
             visible: np.ndarray | None = None) -> np.ndarray:
    """(H,W,3) uint8 image and (K,3) uint8 palette → (H,W) palette indices. In lightness (auto, for a
    ramp) the image's lightness range, of its `visible` (H,W) pixels if given, spans the palette's."""
    if dither not in DITHERS:
        raise ValueError(f"dither {dither!r} is not one of {', '.join(DITHERS)}")
    if space not in SPACES:
        raise ValueError(f"colour space {space!r} is not one of {', '.join(SPACES)}")
    height, width = image.shape[:2]
    space = resolve_space(space, palette)
    pixels = to_space(image[..., :3].astype(np.float64) / 255, space)
    pal = to_space(palette.astype(np.float64) / 255, space)
    if space == "lightness" and not _all_in_palette(image[..., :3], palette):  # a palette picture stays as it is
        pixels = stretch_lightness(pixels, pal, visible)
    if dither == "none":
        return nearest(pixels.reshape(-1, 3), pal).reshape(height, width)
    if dither.startswith("bayer"):
        return _ordered(pixels, pal, int(dither[5:]))
    return _diffuse(pixels, pal, _KERNELS[dither])


def _all_in_palette(image: np.ndarray, palette: np.ndarray) -> bool:
    def packed(rgb):
        rgb = np.asarray(rgb, dtype=np.int64).reshape(-1, 3)
        return (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
    return bool(np.isin(packed(image), packed(palette)).all())


def _diffuse(pixels: np.ndarray, pal: np.ndarray, kernel) -> np.ndarray:
    """Error diffusion, left to right, top to bottom (serial by nature)."""
    height, width = pixels.shape[:2]
    work = pixels.copy()
    out = np.zeros((height, width), dtype=np.int64)
    for y in range(height):
        row = work[y]
        for x in range(width):
            wanted = row[x]
            index = int(((pal - wanted) ** 2).sum(1).argmin())
            out[y, x] = index
            error = wanted - pal[index]
            for dy, dx, share in kernel:
                yy, xx = y + dy, x + dx
                if yy < height and 0 <= xx < width:
                    work[yy, xx] += error * share
    return out

