"""The batch's shared look and its game-ready files: one palette for the set, the sprites in it, a
sprite sheet with its atlas (TexturePacker's JSON hash; Aseprite's JSON) and a contact sheet for people."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..export import indexed_image, palette_indices
from ..outputs import png_bytes
from ..palette_fit import fit_palette
from ..palettes import Palette
from ..version import __version__

APP = "pixray"
CONTACT_TILE = 128  # the contact sheet shows each sprite enlarged to about this many pixels


@dataclass
class Frame:
    name: str
    x: int
    y: int
    width: int
    height: int


def write_atomic(path: Path, data: bytes) -> Path:
    """Readers see the old file or the new one, never half of one (a batch may be killed any time)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)
    return path


def fit_shared_palette(sprites: list[Image.Image], count: int) -> Palette:
    """`count` colours for the whole set (weighted k-means in OKLab over every sprite's visible pixels),
    so that every sprite can be drawn in them and the sheet reads as one game."""
    pixels = []
    for sprite in sprites:
        rgba = np.asarray(sprite.convert("RGBA"))
        visible = rgba[..., 3] >= 128
        pixels.append(rgba[..., :3][visible] if visible.any() else rgba[..., :3].reshape(-1, 3))
    colors = fit_palette(np.concatenate(pixels), count)
    return Palette(tuple(map(tuple, colors)), f"shared {len(colors)} colours")


def in_palette(sprite: Image.Image, palette: Palette, space: str = "oklab") -> Image.Image:
    """The sprite with each pixel the nearest palette colour, as an indexed PNG holding the whole palette
    in its order (the same index means the same colour in every sprite of the batch)."""
    rgba = sprite.convert("RGBA")  # an indexed sprite's transparency is in its palette, not a channel
    see_through = bool((np.asarray(rgba)[..., 3] < 255).any())
    indices, opaque = palette_indices(rgba if see_through else rgba.convert("RGB"), palette, "none", space)
    return indexed_image(indices, palette.array(), opaque)


def pack(sprites: list[tuple[str, Image.Image]], padding: int, columns: int | None) -> tuple[Image.Image, list[Frame]]:
    """Sprites at their native size in a grid of equal cells (the largest sprite's size), `padding`
    transparent pixels between them and around the sheet, so no engine samples a neighbour."""
    cell_w = max(image.width for _, image in sprites)
    cell_h = max(image.height for _, image in sprites)
    columns = min(columns or math.ceil(math.sqrt(len(sprites))), len(sprites))
    rows = math.ceil(len(sprites) / columns)
    sheet = Image.new("RGBA", (padding + columns * (cell_w + padding), padding + rows * (cell_h + padding)))
    frames = []
    for number, (name, image) in enumerate(sprites):
        x = padding + (number % columns) * (cell_w + padding)
        y = padding + (number // columns) * (cell_h + padding)
        sheet.paste(image.convert("RGBA"), (x, y))
        frames.append(Frame(name, x, y, image.width, image.height))
    return sheet, frames


def _frame_fields(frame: Frame) -> dict:
    return {"frame": {"x": frame.x, "y": frame.y, "w": frame.width, "h": frame.height}, "rotated": False,
            "trimmed": False, "spriteSourceSize": {"x": 0, "y": 0, "w": frame.width, "h": frame.height},
            "sourceSize": {"w": frame.width, "h": frame.height}}


def texturepacker_json(frames: list[Frame], image_name: str, size: tuple[int, int]) -> dict:
    """TexturePacker's 'JSON (Hash)' data file: frames keyed by name (what Phaser's load.atlas, PixiJS's
    Spritesheet and Godot's TexturePacker importers read)."""
    return {"frames": {f.name: {**_frame_fields(f), "pivot": {"x": 0.5, "y": 0.5}} for f in frames},
            "meta": {"app": APP, "version": __version__, "image": image_name, "format": "RGBA8888",
                     "size": {"w": size[0], "h": size[1]}, "scale": "1"}}


def aseprite_json(frames: list[Frame], image_name: str, size: tuple[int, int],
                  tags: dict[str, list[int]]) -> dict:
    """Aseprite's sprite-sheet JSON (array form): frames in order with a duration, and a frame tag for
    each prompt's variants, so they play as a little animation in Aseprite and its importers."""
    return {"frames": [{"filename": f.name, **_frame_fields(f), "duration": 100} for f in frames],
            "meta": {"app": APP, "version": __version__, "image": image_name, "format": "RGBA8888",
                     "size": {"w": size[0], "h": size[1]}, "scale": "1",
                     "frameTags": [{"name": name, "from": min(numbers), "to": max(numbers), "direction": "forward"}
                                   for name, numbers in tags.items()],
                     "layers": [{"name": "pixray", "opacity": 255, "blendMode": "normal"}], "slices": []}}


def contact_sheet(sprites: list[tuple[str, Image.Image]], columns: int | None) -> Image.Image:
    """Every sprite enlarged by a whole number (pixels stay square) on a checkerboard, labelled."""
    side = max(max(image.size) for _, image in sprites)
    factor = max(1, CONTACT_TILE // side)
    tile = side * factor
    label_h, gap = 14, 8
    columns = min(columns or math.ceil(math.sqrt(len(sprites))), len(sprites))
    rows = math.ceil(len(sprites) / columns)
    sheet = Image.new("RGB", (gap + columns * (tile + gap), gap + rows * (tile + label_h + gap)), (255, 255, 255))
    checker = _checkerboard(tile, max(4, factor * 2))
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for number, (name, image) in enumerate(sprites):
        x = gap + (number % columns) * (tile + gap)
        y = gap + (number // columns) * (tile + label_h + gap)
        big = image.convert("RGBA").resize((image.width * factor, image.height * factor), Image.Resampling.NEAREST)
        back = checker.copy()
        back.alpha_composite(big, ((tile - big.width) // 2, (tile - big.height) // 2))
        sheet.paste(back.convert("RGB"), (x, y))
        text = name
        while text and draw.textlength(text, font=font) > tile:
            text = text[:-1]
        draw.text((x, y + tile + 2), text, fill=(0, 0, 0), font=font)
    return sheet


def _checkerboard(size: int, square: int) -> Image.Image:
    ys, xs = np.mgrid[:size, :size]
    light = ((ys // square + xs // square) % 2 == 0)[..., None]
    rgb = np.where(light, 236, 212).astype(np.uint8).repeat(3, axis=2)
    return Image.fromarray(np.dstack([rgb, np.full((size, size), 255, np.uint8)]), "RGBA")


def write_sheet_files(folder: Path, sprites: list[tuple[str, Image.Image]], padding: int, columns: int | None,
                      tags: dict[str, list[int]]) -> dict[str, Path]:
    """sheet.png, sheet.json (TexturePacker hash), sheet.aseprite.json and contact.png in `folder`."""
    sheet, frames = pack(sprites, padding, columns)
    return {
        "sheet": write_atomic(folder / "sheet.png", png_bytes(sheet)),
        "atlas": write_atomic(folder / "sheet.json",
                              (json.dumps(texturepacker_json(frames, "sheet.png", sheet.size), indent=1) + "\n").encode()),
        "aseprite": write_atomic(folder / "sheet.aseprite.json", (json.dumps(
            aseprite_json(frames, "sheet.png", sheet.size, tags), indent=1) + "\n").encode()),
        "contact": write_atomic(folder / "contact.png", png_bytes(contact_sheet(sprites, columns))),
    }
