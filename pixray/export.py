"""From the drawer's last picture to the files a pixel artist keeps: binary alpha, exact palette
colours (dithered on the native grid), indexed PNGs and a .gpl of the colours used."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from . import cleanup
from .drawers import DrawerOutput
from .palette_fit import fit_palette
from .palettes import Palette, load_palette, parse_color
from .quantize import nearest, quantize, resolve_space, space_for, to_space


def upscale_nearest(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(h,w) → (H,W) by the same nearest-exact mapping the pixel drawer renders with."""
    tensor = torch.from_numpy(array.astype(np.float64))[None, None]
    return F.interpolate(tensor, size=(size[1], size[0]), mode="nearest-exact")[0, 0].numpy().astype(array.dtype)


def binary_alpha(image: Image.Image) -> Image.Image:
    """RGBA with alpha snapped to 0 or 255 (at 128); other modes unchanged."""
    if image.mode != "RGBA":
        return image
    rgba = np.asarray(image).copy()
    rgba[..., 3] = np.where(rgba[..., 3] >= 128, 255, 0)
    return Image.fromarray(rgba, "RGBA")


def indexed_image(indices: np.ndarray, colors: np.ndarray, opaque: np.ndarray | None) -> Image.Image:
    """A 'P' image with the palette (transparent pixels get one extra, transparent entry), or RGB(A)
    when the palette is too large for a PNG palette."""
    count = len(colors) + (opaque is not None)
    if count <= 256:
        visible = indices if opaque is None else np.where(opaque, indices, len(colors))
        image = Image.fromarray(visible.astype(np.uint8), "P")
        image.putpalette(colors.reshape(-1).tolist() + ([0, 0, 0] if opaque is not None else []))
        if opaque is not None:
            image.info["transparency"] = len(colors)
        return image
    rgb = colors[indices]
    if opaque is None:
        return Image.fromarray(rgb, "RGB")
    return Image.fromarray(np.dstack([rgb, np.where(opaque, 255, 0).astype(np.uint8)]), "RGBA")


def palette_indices(image: Image.Image, palette: Palette, dither: str = "none", space: str = "auto"):
    """Exact quantisation of an RGB(A) image: (indices, opaque mask or None), both (H,W)."""
    rgba = np.asarray(image.convert("RGBA" if image.mode == "RGBA" else "RGB"))
    opaque = rgba[..., 3] >= 128 if rgba.shape[2] == 4 else None
    return quantize(rgba[..., :3], palette.array(), dither, space, visible=opaque), opaque


def used_palette(indices: np.ndarray, opaque: np.ndarray | None, palette: Palette) -> Palette:
    """The palette colours that appear in visible pixels, in palette order."""
    visible = indices if opaque is None else indices[opaque]
    colors = palette.array()[np.unique(visible)] if visible.size else palette.array()[:1]
    return Palette(tuple(map(tuple, colors)), palette.name)


def choose_palette(settings, sprite: Image.Image | None) -> Palette | None:
    """The user's palette; else, for pixel art (a native sprite), `colors` colours fitted to the sprite's
    visible cells in OKLab; else None (a full-resolution picture keeps its colours)."""
    if settings.palette is not None:
        return load_palette(settings.palette)
    if not settings.colors or sprite is None:
        return None
    rgba = np.asarray(sprite.convert("RGBA"))
    visible = rgba[..., 3] >= 128
    pixels = rgba[..., :3][visible] if visible.any() else rgba[..., :3].reshape(-1, 3)
    colors = fit_palette(pixels, settings.colors)
    return Palette(tuple(map(tuple, colors)), f"{len(colors)} colours")


def _finish_cells(indices: np.ndarray, opaque: np.ndarray | None, colors: np.ndarray, settings, space: str):
    """The cleanup pass on the sprite's palette indices: backdrop, stipple, stray pixels, outline."""
    if settings.background == "remove":
        backdrop = cleanup.background_mask(indices, opaque)
        opaque = ~backdrop if opaque is None else opaque & ~backdrop
    if settings.cleanup and settings.dither == "none":
        if settings.palette is not None:
            # stipple is a loop's mix of two of the user's colours; in colours fitted to the picture the
            # same pass flattened the sprite drawer's details (judge R@1 coarsened, 3 seeds: 0.80 -> 0.77)
            indices, opaque = cleanup.remove_stipple(indices, opaque, colors)
        indices, opaque = cleanup.remove_strays(indices, opaque, colors)
    if settings.outline is not None and opaque is not None and opaque.any():
        ring = cleanup.outline_mask(opaque)
        if settings.outline == "auto":
            shade = cleanup.darkest(colors, np.unique(indices[opaque]))
        else:
            space = resolve_space(space, colors)
            shade = int(nearest(to_space(np.array([parse_color(settings.outline)]) / 255, space),
                                to_space(colors / 255, space))[0])
        indices, opaque = np.where(ring, shade, indices), opaque | ring
    return indices, opaque


def finalize(output: DrawerOutput, settings) -> DrawerOutput:
    """Binary alpha always. With a palette (the user's, or `colors` fitted to a sprite): exact palette
    colours, the sprite quantised, dithered and cleaned up once, the image its exact enlargement, and
    palette.gpl / palette.hex of the colours used."""
    palette = choose_palette(settings, output.sprite)
    if palette is None:
        return replace(output, image=binary_alpha(output.image),
                       sprite=binary_alpha(output.sprite) if output.sprite is not None else None)
    colors = palette.array()
    base = output.sprite if output.sprite is not None else output.image
    space = space_for(settings.palette_space, settings.palette is not None)
    indices, opaque = palette_indices(base, palette, settings.dither, space)
    if output.sprite is not None:
        indices, opaque = _finish_cells(indices, opaque, colors, settings, space)
    sprite = indexed_image(indices, colors, opaque) if output.sprite is not None else None
    if base.size != output.image.size:
        if output.cell_map is not None:
            big_indices = indices.reshape(-1)[output.cell_map]
            big_opaque = opaque.reshape(-1)[output.cell_map] if opaque is not None else None
        else:
            big_indices = upscale_nearest(indices, output.image.size)
            big_opaque = upscale_nearest(opaque, output.image.size) if opaque is not None else None
        image = indexed_image(big_indices, colors, big_opaque)
    else:
        image = indexed_image(indices, colors, opaque)
    files = dict(output.files)
    used = used_palette(indices, opaque, palette)
    files["palette.gpl"] = used.to_gpl().encode()
    files["palette.hex"] = used.to_hex().encode()
    return DrawerOutput(image=image, sprite=sprite, files=files)
