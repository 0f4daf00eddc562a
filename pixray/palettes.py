"""Palettes: built-in names, palette files (.hex .gpl .pal .act), colours of an image, pixray's DSL.

A palette is a list of unique 8-bit RGB colours. `load_palette(spec)` accepts
  - a built-in name: pico8, nes, gameboy, cga, ega, c64, 1bit, grayscale4 (any grayscaleN / grayN)
  - a file: lospec .hex, GIMP .gpl, JASC .pal, Adobe .act, or an image (png/jpg/...) whose colours
    are reduced to N with median cut: 'photo.png' or 'photo.png\\8' (pixray's '@file' works too)
  - pixray's DSL: sections joined by ';', each a list '[black, #ff0000, (255+128+0)]' or a ramp
    'red->rust\\8' (N colours from one colour to the next; 'rust\\8' ramps up from black; 16 if no N).
Colour names are CSS names, the xkcd colour survey names (public domain, CC0) and '#rgb'/'#rrggbb'.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageColor

from .errors import SettingsError
from .image_files import open_image

RGB = tuple[int, int, int]


def _hexes(text: str) -> list[RGB]:
    return [tuple(int(h[i:i + 2], 16) for i in (0, 2, 4)) for h in text.split()]


# The NES 2C02 master palette (64 entries as commonly rendered); duplicates and unused blacks drop out.
_NES_64 = (
    "7c7c7c 0000fc 0000bc 4428bc 940084 a80020 a81000 881400 503000 007800 006800 005800 004058 000000 000000 000000 "
    "bcbcbc 0078f8 0058f8 6844fc d800cc e40058 f83800 e45c10 ac7c00 00b800 00a800 00a844 008888 000000 000000 000000 "
    "f8f8f8 3cbcfc 6888fc 9878f8 f878f8 f85898 f87858 fca044 f8b800 b8f818 58d854 58f898 00e8d8 787878 000000 000000 "
    "fcfcfc a4e4fc b8b8f8 d8b8f8 f8b8f8 f8a4c0 f0d0b0 fce0a8 f8d878 d8f878 b8f8b8 b8f8d8 00fcfc f8d8f8 000000 000000")

BUILTIN = {
    "pico8": _hexes("000000 1d2b53 7e2553 008751 ab5236 5f574f c2c3c7 fff1e8 "
                    "ff004d ffa300 ffec27 00e436 29adff 83769c ff77a8 ffccaa"),
    "nes": _hexes(_NES_64),
    "gameboy": _hexes("0f380f 306230 8bac0f 9bbc0f"),
    "cga": _hexes("000000 55ffff ff55ff ffffff"),  # mode 4, palette 1, high intensity
    "ega": _hexes("000000 0000aa 00aa00 00aaaa aa0000 aa00aa aa5500 aaaaaa "
                  "555555 5555ff 55ff55 55ffff ff5555 ff55ff ffff55 ffffff"),
    "c64": _hexes("000000 ffffff 68372b 70a4b2 6f3d86 588d43 352879 b8c76f "
                  "6f4f25 433900 9a6759 444444 6c6c6c 9ad284 6c5eb5 959595"),
    "1bit": _hexes("000000 ffffff"),
}
BUILTIN_ALIASES = {"pico-8": "pico8", "gb": "gameboy", "game-boy": "gameboy", "dmg": "gameboy", "ega16": "ega",
                   "ega-16": "ega", "cga16": "ega", "bw": "1bit", "1-bit": "1bit", "mono": "1bit",
                   "commodore64": "c64"}
_GRAY = re.compile(r"gr[ae]y(?:scale)?-?(\d+)")

# pixray's own colour names
_PIXRAY_NAMES = {"pixel_green": (112, 255, 135), "pixel_orange": (255, 204, 51), "pixel_blue": (112, 135, 255),
                 "pixel_red": (255, 135, 112), "pixel_grayscale": (255, 255, 255)}
PALETTE_FILE_SUFFIXES = (".hex", ".gpl", ".pal", ".act")
# An indexed PNG holds 256 colours, and pixel-art palettes have far fewer; larger ones would only make
# every step slower (a 100,000-colour palette took 150 s per iteration).
MAX_COLORS = 256
MAX_FILE_BYTES = 1 << 20  # a 256-colour palette file is a few KB
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff")


class PaletteError(SettingsError):
    """A palette name, file or DSL string that cannot be read."""


@dataclass(frozen=True)
class Palette:
    colors: tuple[RGB, ...]
    name: str = ""

    def __post_init__(self):
        unique = tuple(dict.fromkeys(tuple(int(v) for v in c) for c in self.colors))
        if not unique:
            raise PaletteError(f"palette {self.name!r} has no colours")
        object.__setattr__(self, "colors", unique)

    def __len__(self) -> int:
        return len(self.colors)

    def array(self) -> np.ndarray:
        """(K,3) uint8."""
        return np.array(self.colors, dtype=np.uint8)

    def tensor(self, device=None):
        """(K,3) float32 in [0,1]."""
        import torch
        return torch.tensor(self.colors, dtype=torch.float32, device=device) / 255

    def to_gpl(self, name: str | None = None) -> str:
        lines = ["GIMP Palette", f"Name: {name or self.name or 'pixray'}", "Columns: 8", "#"]
        lines += [f"{r:3d} {g:3d} {b:3d}\t#{r:02x}{g:02x}{b:02x}" for r, g, b in self.colors]
        return "\n".join(lines) + "\n"

    def to_hex(self) -> str:
        """lospec's .hex: one rrggbb per line."""
        return "".join(f"{r:02x}{g:02x}{b:02x}\n" for r, g, b in self.colors)


@lru_cache(maxsize=1)
def _xkcd() -> dict[str, str]:
    return json.loads((Path(__file__).parent / "data" / "xkcd_colors.json").read_text())


def parse_color(text: str) -> RGB:
    """'#f00', '#ff0000', 'ff0000', CSS or xkcd names ('rust'), '(255+0+0)' or '[1+0+0]'."""
    s = text.strip().lower()
    if not s:
        raise PaletteError("empty colour name")
    if s[0] in "([" and s[-1] in ")]":
        try:
            values = [float(v) for v in re.split(r"[+,\s]+", s[1:-1].strip())]
        except ValueError:
            values = []
        if len(values) != 3:
            raise PaletteError(f"colour {text!r}: expected three numbers like (255+128+0) or [1+0.5+0]")
        scale = 1 if s[0] == "(" else 255
        return tuple(int(round(min(max(v * scale, 0), 255))) for v in values)
    if s in _PIXRAY_NAMES:
        return _PIXRAY_NAMES[s]
    if re.fullmatch(r"[0-9a-f]{6}", s):
        s = "#" + s
    name = s.removeprefix("xkcd:")
    if name in _xkcd():
        return ImageColor.getrgb(_xkcd()[name])
    try:
        return ImageColor.getrgb(s.replace(" ", ""))[:3]
    except ValueError:
        raise PaletteError(f"unknown colour {text!r}: use #rrggbb, a CSS or xkcd colour name") from None


def ramp(colors: list[RGB], steps: int) -> list[RGB]:
    """`steps` colours spread evenly along the piecewise-linear path through `colors`."""
    if not 1 <= steps <= MAX_COLORS:
        raise PaletteError(f"a ramp needs between 1 and {MAX_COLORS} steps, not {steps}")
    if len(colors) == 1 or steps == 1:
        return [colors[0]]
    points = np.array(colors, dtype=np.float64)
    positions = np.linspace(0, len(colors) - 1, steps)
    low = np.minimum(positions.astype(int), len(colors) - 2)
    frac = (positions - low)[:, None]
    mixed = points[low] * (1 - frac) + points[low + 1] * frac
    return [tuple(int(v) for v in row) for row in np.round(mixed)]


def _split_steps(text: str) -> tuple[str, int | None]:
    """'red->blue\\8' → ('red->blue', 8)."""
    body, sep, steps = text.rpartition("\\")
    if not sep:
        return text, None
    if not steps.strip().isdigit():
        raise PaletteError(f"palette section {text!r}: expected a number of colours after '\\'")
    return body, int(steps)


def _dsl_section(section: str) -> list[RGB]:
    body, steps = _split_steps(section.strip())
    body = body.strip()
    if body.startswith("[") and body.endswith("]"):
        colors = [parse_color(c) for c in re.split(r",(?![^()\[\]]*[)\]])", body[1:-1]) if c.strip()]
        return ramp(colors, steps) if steps else colors
    parts = [p for p in body.split("->")]
    colors = [parse_color(p) for p in parts]
    if len(colors) == 1:
        colors = [(0, 0, 0)] + colors  # pixray: a single colour ramps up from black
    return ramp(colors, steps or 16)


def parse_dsl(text: str) -> list[RGB]:
    colors: list[RGB] = []
    for section in text.split(";"):
        if section.strip():
            colors += _dsl_section(section)
    return colors


# --- files -----------------------------------------------------------------------------------


def _bad_line(path: Path, number: int, expected: str, line: str) -> PaletteError:
    return PaletteError(f"palette file '{path}', line {number}: expected {expected}, got {line.strip()!r}")


def _read_hex(path: Path) -> list[RGB]:
    colors = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        text = line.strip()
        if not text or text.startswith(";") or text.startswith("//"):
            continue
        if not re.fullmatch(r"#?[0-9a-fA-F]{6}(?:[0-9a-fA-F]{2})?", text):
            raise _bad_line(path, number, "a hex colour like ff004d", line)
        text = text.lstrip("#")
        colors.append(tuple(int(text[i:i + 2], 16) for i in (0, 2, 4)))
    return colors


def _rgb_triple(path: Path, number: int, line: str, expected: str) -> RGB:
    fields = line.split()
    try:
        rgb = tuple(int(v) for v in fields[:3])
    except ValueError:
        rgb = ()
    if len(rgb) != 3 or not all(0 <= v <= 255 for v in rgb):
        raise _bad_line(path, number, expected, line)
    return rgb


def _read_gpl(path: Path) -> list[RGB]:
    lines = path.read_text().splitlines()
    if not lines or lines[0].strip() != "GIMP Palette":
        raise _bad_line(path, 1, "the header 'GIMP Palette'", lines[0] if lines else "")
    colors = []
    for number, line in enumerate(lines[1:], 2):
        text = line.strip()
        if not text or text.startswith("#") or re.match(r"^(Name|Columns):", text):
            continue
        colors.append(_rgb_triple(path, number, text, "'R G B [name]' with values 0-255"))
    return colors


def _read_jasc(path: Path) -> list[RGB]:
    lines = [line for line in path.read_text().splitlines()]
    if len(lines) < 3 or lines[0].strip() != "JASC-PAL":
        raise _bad_line(path, 1, "the header 'JASC-PAL'", lines[0] if lines else "")
    if not lines[2].strip().isdigit():
        raise _bad_line(path, 3, "the number of colours", lines[2])
    count = int(lines[2])
    body = [(n, line) for n, line in enumerate(lines[3:], 4) if line.strip()]
    if len(body) != count:
        raise PaletteError(f"palette file '{path}', line 3: says {count} colours but {len(body)} follow")
    return [_rgb_triple(path, n, line, "'R G B' with values 0-255") for n, line in body]


def _read_act(path: Path) -> list[RGB]:
    data = path.read_bytes()
    if len(data) not in (768, 772):
        raise PaletteError(f"palette file '{path}': an .act file has 768 or 772 bytes, this one has {len(data)}")
    count = int.from_bytes(data[768:770], "big") if len(data) == 772 else 256
    if not 1 <= count <= 256:
        raise PaletteError(f"palette file '{path}': colour count {count} is not between 1 and 256")
    return [tuple(data[i * 3:i * 3 + 3]) for i in range(count)]


def image_colors(image: Image.Image, count: int) -> list[RGB]:
    """The colours of an image: all of them if there are at most `count`, else `count` by median cut."""
    rgb = image.convert("RGB")
    present = rgb.getcolors(maxcolors=count)
    if present is not None:
        return [c for _, c in sorted(present, key=lambda pair: -pair[0])]
    reduced = rgb.quantize(colors=count, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    flat = reduced.getpalette()[: 3 * count]
    used = sorted(reduced.getcolors(), key=lambda pair: -pair[0])
    return [tuple(flat[3 * i:3 * i + 3]) for _, i in used]


def _read_file(path: Path, steps: int | None) -> list[RGB]:
    suffix = path.suffix.lower()
    if path.is_dir():
        raise PaletteError(f"palette file '{path}' is a folder, not a file")
    if not path.is_file():
        raise PaletteError(f"palette file '{path}' does not exist")
    if suffix in IMAGE_SUFFIXES:
        if not 1 <= (steps or 16) <= MAX_COLORS:
            raise PaletteError(f"palette '{path}\\{steps}': an image gives between 1 and {MAX_COLORS} colours")
        return image_colors(open_image(str(path), "palette"), steps or 16)
    if path.stat().st_size > MAX_FILE_BYTES:
        raise PaletteError(f"palette file '{path}' is {path.stat().st_size:,} bytes; a palette file of at most "
                           f"{MAX_COLORS} colours is far smaller (limit {MAX_FILE_BYTES:,} bytes)")
    try:
        reader = {".hex": _read_hex, ".gpl": _read_gpl, ".pal": _read_jasc, ".act": _read_act}[suffix]
        return reader(path)
    except UnicodeDecodeError:
        raise PaletteError(f"palette file '{path}' is not a text file") from None


def load_palette(spec: str) -> Palette:
    """Resolve a palette setting (name, file or DSL string) into a Palette of at most MAX_COLORS
    colours; PaletteError if it cannot."""
    palette = _load(spec)
    if len(palette) > MAX_COLORS:
        raise PaletteError(f"palette {spec!r} has {len(palette):,} colours; at most {MAX_COLORS} are allowed")
    return palette


def _load(spec: str) -> Palette:
    text = spec.strip()
    key = text.lower()
    key = BUILTIN_ALIASES.get(key, key)
    if key in BUILTIN:
        return Palette(tuple(BUILTIN[key]), key)
    gray = _GRAY.fullmatch(key)
    if gray:
        levels = int(gray.group(1))
        if not 2 <= levels <= 256:
            raise PaletteError(f"palette {spec!r}: grayscale needs between 2 and 256 levels")
        return Palette(tuple(ramp([(0, 0, 0), (255, 255, 255)], levels)), f"grayscale{levels}")
    suffixes = "|".join(s.lstrip(".") for s in PALETTE_FILE_SUFFIXES + IMAGE_SUFFIXES)
    as_file = re.fullmatch(rf"@?(.+\.(?:{suffixes}))(?:\\(\d+))?", text, flags=re.IGNORECASE)
    if as_file:
        path, steps = Path(as_file.group(1)), as_file.group(2)
        return Palette(tuple(_read_file(path, int(steps) if steps else None)), path.stem)
    try:
        return Palette(tuple(parse_dsl(text)), text)
    except PaletteError as err:
        names = ", ".join(sorted(BUILTIN) + ["grayscaleN"])
        raise PaletteError(f"palette {spec!r}: {err} (built-in palettes: {names}; or a .hex/.gpl/.pal/.act/"
                           f"image file)") from None
