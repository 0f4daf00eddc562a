"""Photo or drawing → pixel art with no neural model: area-aware downscale, palette fit, dithering,
optional cleanup of stray pixels. A picture that already is pixel art, upscaled (and maybe blurred or
JPEG'd, as image generators make it), comes back at its true resolution, one pixel per cell.
Deterministic and offline; its sprite is a good init_image for CLIP-guided refinement."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .cleanup import remove_strays
from .errors import SettingsError
from .export import indexed_image, palette_indices, upscale_nearest, used_palette
from .image_files import open_image, to_rgb
from .metrics import Grid, detect_grid, downsample
from .palette_fit import fit_palette, merge_close
from .palettes import Palette, load_palette
from .quantize import DITHERS, SPACES, space_for


MAX_OUTPUT_PIXELS = 64_000_000  # the upscaled picture; larger ones take gigabytes to write
DEFAULT_CELLS = 64  # across, when the picture has no pixel grid of its own and none is given
# Cell colours closer than this (OKLab) are one colour that blur or JPEG made several.
SAME_COLOR = 0.05


@dataclass
class PixelArt:
    sprite: Image.Image      # one pixel per cell, indexed
    image: Image.Image       # the sprite upscaled by nearest neighbour
    palette: Palette         # the colours used
    grid: Grid | None = None  # the pixel grid found in the picture (pixel_size="auto")


def _grid(image: Image.Image, pixel_size) -> tuple[int, int]:
    """(w,h) cells; a single number is the width and the height follows the picture's shape."""
    if isinstance(pixel_size, (int, float)) or (isinstance(pixel_size, (tuple, list)) and len(pixel_size) == 1):
        width = int(pixel_size if isinstance(pixel_size, (int, float)) else pixel_size[0])
        return width, max(1, round(width * image.height / image.width))
    width, height = (int(v) for v in pixel_size)
    return width, height


def pixelate(image, pixel_size="auto", palette: str | Palette | None = None, dither: str = "none",
             colors: int = 16, scale: int | None = None, palette_space: str = "auto",
             cleanup: bool = False) -> PixelArt:
    """Turn `image` (path or PIL) into pixel art `pixel_size` cells wide (or (w, h) cells).

    pixel_size "auto" (or None): if the picture is upscaled pixel art, its own grid (one pixel per cell,
    its colours merged where blur or JPEG split them); otherwise 64 cells across.
    palette: any palette setting (name, file, DSL); None picks at most `colors` colours from the image.
    scale: integer upscale of the result (default: the original size divided by the grid, rounded)."""
    if dither not in DITHERS:
        raise SettingsError(f"setting 'dither': {dither!r} is not one of {', '.join(DITHERS)}")
    if palette_space not in SPACES:
        raise SettingsError(f"setting 'palette_space': {palette_space!r} is not one of {', '.join(SPACES)}")
    if cleanup and dither != "none":
        raise SettingsError("setting 'cleanup': removing stray pixels would erase the dither pattern; "
                            "use it with dither='none'")
    if not 2 <= colors <= 256:
        raise SettingsError(f"setting 'colors': {colors} is out of range; allowed: between 2 and 256")
    source = open_image(os.fspath(image), "input") if isinstance(image, (str, os.PathLike)) else to_rgb(image)
    grid = None
    if pixel_size in (None, "auto", ["auto"], ("auto",)):
        grid = detect_grid(source)
        pixel_size = DEFAULT_CELLS if grid.cell == 1 else None
    if pixel_size is None:  # the picture's own cells
        small = Image.fromarray(downsample(np.asarray(source.convert("RGBA")), grid)[..., :3], "RGB")
        cells = small.size
    else:
        cells = _grid(source, pixel_size)
        if not (1 <= cells[0] <= source.width and 1 <= cells[1] <= source.height):
            raise SettingsError(f"setting 'pixel_size': {cells[0]}x{cells[1]} must be between 1x1 and the image "
                                f"size {source.width}x{source.height}")
        # BOX resampling averages exactly the source area under each cell, for any ratio.
        small = source.resize(cells, Image.Resampling.BOX)
    if palette is not None:
        chosen = palette if isinstance(palette, Palette) else load_palette(palette)
    else:  # the picture's own colours: merged where blur or JPEG split them, else fitted like a run's
        pixels = np.asarray(small).reshape(-1, 3)
        merged = merge_close(pixels, SAME_COLOR) if grid is not None and grid.cell > 1 else None
        found = merged if merged is not None and len(merged) <= colors else fit_palette(pixels, colors)
        chosen = Palette(tuple(map(tuple, found)), f"{len(found)} colours")
    indices, _ = palette_indices(small, chosen, dither, space_for(palette_space, palette is not None))
    if cleanup:
        indices, _ = remove_strays(indices, None, chosen.array())
    factor = scale or (grid.cell if grid is not None and grid.cell > 1 else
                       max(1, round(min(source.width / cells[0], source.height / cells[1]))))
    largest = max(1, int((MAX_OUTPUT_PIXELS / (cells[0] * cells[1])) ** 0.5))
    if not 1 <= factor <= largest:
        raise SettingsError(f"setting 'scale': {factor} is out of range; allowed for {cells[0]}x{cells[1]} cells: "
                            f"between 1 and {largest} (at most {MAX_OUTPUT_PIXELS // 1_000_000} million pixels)")
    big = upscale_nearest(indices, (cells[0] * factor, cells[1] * factor))
    colors_array = chosen.array()
    return PixelArt(indexed_image(indices, colors_array, None), indexed_image(big, colors_array, None),
                    used_palette(indices, None, chosen), grid)


def save_pixel_art(art: PixelArt, out: str | os.PathLike, overwrite: bool = False) -> list[Path]:
    """Write OUT (upscaled), OUT_sprite.png and OUT.gpl; refuses to replace files unless `overwrite`."""
    out = Path(out)
    if out.suffix.lower() != ".png":
        raise SettingsError(f"output {str(out)!r} must be a .png file")
    paths = [out, out.with_name(f"{out.stem}_sprite.png"), out.with_suffix(".gpl")]
    existing = [str(p) for p in paths if p.exists()]
    if existing and not overwrite:
        raise SettingsError(f"{', '.join(existing)} already exist; choose another name or pass --overwrite")
    out.parent.mkdir(parents=True, exist_ok=True)
    art.image.save(paths[0])
    art.sprite.save(paths[1])
    paths[2].write_text(art.palette.to_gpl())
    return paths
