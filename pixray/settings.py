"""The one typed settings schema: parsing from dicts / YAML / CLI strings, presets and validation.

Every check here runs before any model loads, so a typo costs milliseconds, not a CLIP download.
Fields left at ``None`` are filled by presets (``quality``, ``aspect``, ``scale``) or by the drawer.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import yaml

from .compat import PIXRAY_ALIASES, PIXRAY_IGNORED, PIXRAY_SPELLINGS
from .errors import SettingsError, warn
from .image_files import image_size, open_image
from .outputs import check_outdir
from .palettes import PaletteError, load_palette, parse_color
from .quantize import DITHERS, SPACES

# ---------------------------------------------------------------------------------------------
# Value parsers: each takes what a user may write (Python value or CLI string) and returns the
# canonical value, or raises ValueError with a short reason. `coerce` adds the setting's name.


def _as_list(value: Any, sep: str) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(sep) if part.strip()]
    if isinstance(value, (list, tuple)):
        items: list = []
        for item in value:
            items.extend(_as_list(item, sep) if isinstance(item, str) else [item])
        return items
    raise ValueError(f"expected a string or a list, got {type(value).__name__}")


def parse_prompt_list(value: Any) -> list[str]:
    """pixray writes several prompts as one string separated by '|'."""
    return [str(p) for p in _as_list(value, "|")]


def parse_name_list(value: Any) -> list[str]:
    """Model names are separated by ',' (pixray's --clip_models "ViT-B/32,ViT-B/16")."""
    return [str(p) for p in _as_list(value, ",")]


def _finite(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a number")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("expected a finite number")
    return number


def parse_pair(value: Any) -> tuple[int, int] | None:
    """A width × height pair: 64, "64", "80x45", "80 45", [80, 45]; one number means square."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        value = " ".join(value)  # from the CLI: ["80", "45"] or ["80x45"]
    if isinstance(value, str):
        parts = [p for p in re.split(r"[x×,\s]+", value.strip()) if p]
    elif isinstance(value, (int, float)):
        parts = [value]
    else:
        parts = list(value)
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2:
        raise ValueError("expected WIDTH HEIGHT (e.g. 80 45 or 80x45)")
    numbers = [_finite(p) for p in parts]
    if any(n != int(n) for n in numbers):
        raise ValueError("expected whole numbers")
    return int(numbers[0]), int(numbers[1])


def _numbers(value: Any, kind: type) -> list:
    items = value.replace(",", " ").split() if isinstance(value, str) else _as_list(value, ",")
    numbers = [_finite(v) for v in items]
    if kind is int and any(n != int(n) for n in numbers):
        raise ValueError("expected whole numbers")
    return [kind(n) for n in numbers]


def parse_int_list(value: Any) -> list[int]:
    return _numbers(value, int)


def parse_float_list(value: Any) -> list[float]:
    return _numbers(value, float)


def parse_quad(value: Any) -> tuple[int, int, int, int] | None:
    """pixray's edge_margins: LEFT RIGHT TOP BOTTOM."""
    if value is None:
        return None
    numbers = _numbers(value, int)
    if len(numbers) != 4:
        raise ValueError("expected four whole numbers: LEFT RIGHT TOP BOTTOM")
    return tuple(numbers)


def parse_optimiser(value: Any) -> str:
    """pixray's optimiser names in any case: 'adamw' → 'AdamW'."""
    from_lower = {name.lower(): name for name in OPTIMISERS}
    return from_lower.get(str(value).strip().lower(), str(value))


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


def parse_seed(value: Any) -> int | str | None:
    """Seeds may be ints or any string (hashed later); digit strings from the CLI become ints."""
    if value is None or isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    return int(text) if re.fullmatch(r"-?\d+", text) else text


def parse_outdir(value: Any) -> str:
    """None means the default folder; an empty name would write into the working directory."""
    if value is None:
        return DEFAULT_OUTDIR
    text = os.fspath(value) if isinstance(value, os.PathLike) else str(value)
    if not text.strip():
        raise ValueError(f"an empty folder name; give a folder (default {DEFAULT_OUTDIR})")
    return text


def parse_output_name(value: Any) -> str:
    """A .png file name inside outdir, or pixray's 'folder/name.png' (relative, no '..'), whose folder
    then becomes the run's folder: nothing is written outside the run's folder either way."""
    text = str(value).strip()
    parts = text.split("/")
    if ("\\" in text or text.startswith("/") or not text or any(p in ("", ".", "..") for p in parts)
            or ":" in parts[0]):
        raise ValueError("must be a file name inside outdir (like picture.png), or pixray's relative "
                         "folder/picture.png, without '..'")
    if not text.lower().endswith(".png") or text.lower() == ".png":
        raise ValueError("must be a .png file name (like picture.png)")
    return text


def parse_optional_str(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text.strip() and text.strip().lower() != "none" else None


def _number(kind: type) -> Callable[[Any], Any]:
    def parse(value: Any):
        if value is None:
            return None
        number = _finite(value)
        if kind is int:
            if number != int(number):
                raise ValueError("expected a whole number")
            return int(number)
        return number

    return parse


# pixray's unit strings: '5', '5 iterations', '5i', or a share of the run, '50%'.
_UNIT = re.compile(r"(-?\d+(?:\.\d+)?)\s*(%|i|its?|iters?|iterations?)?", re.I)


def _unit(value: Any) -> tuple[float, str]:
    """(number, '%' or 'i' or '') of a pixray unit string or a plain number."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _finite(value), ""
    match = _UNIT.fullmatch(str(value).strip())
    if not match:
        raise ValueError("expected iterations ('5', '5 iterations', '5i') or a share of them ('50%')")
    unit = match[2] or ""
    return _finite(match[1]), "%" if unit == "%" else "i" if unit else ""


def parse_every(value: Any) -> int | str:
    """A number of iterations; pixray's '50%' stays a string until the run's length is known."""
    number, unit = _unit(value)
    if unit == "%":
        return f"{number:g}%"
    if number != int(number):
        raise ValueError("expected a whole number of iterations")
    return int(number)


def parse_drops(value: Any) -> list:
    """Percents of the run (a plain number, or '75%'); pixray's '100i' (an iteration) stays a string
    until the run's length is known."""
    items = [value] if isinstance(value, (int, float)) else _as_list(value, ",")
    drops = []
    for item in items:
        number, unit = _unit(item)
        drops.append(f"{number:g}i" if unit == "i" else number)
    return drops


def _resolve_units(settings: "Settings") -> None:
    """Turn pixray's '50%' (of the iterations) and '100i' (an iteration) into our units."""
    total = max(1, settings.iterations)
    for name in ("save_every", "display_every"):
        value = getattr(settings, name)
        if isinstance(value, str):
            share = float(value[:-1])
            if not 0 <= share <= 100:
                raise SettingsError(f"setting {name!r}: {value} is out of range; allowed: 0% to 100%")
            setattr(settings, name, max(1, round(total * share / 100)) if share else 0)
    settings.learning_rate_drops = [100 * float(d[:-1]) / total if isinstance(d, str) else d
                                    for d in settings.learning_rate_drops]


# ---------------------------------------------------------------------------------------------
# The schema


def setting(default: Any, parse: Callable[[Any], Any], group: str, help: str, *, choices: Iterable[str] = (),
            minimum: float | None = None, maximum: float | None = None, metavar: str | None = None,
            nargs: str | None = None):
    """Declare one field with everything the parser, the validator and the CLI need to know."""
    meta = dict(parse=parse, group=group, help=help, choices=tuple(choices), minimum=minimum,
                maximum=maximum, metavar=metavar, nargs=nargs)
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


DEFAULT_OUTDIR = "outputs/%DATE%-%SEQ%"
# The largest picture a run makes: beyond this a step needs gigabytes (the CLIP cutouts, the drawer).
MAX_SIDE = 8192
MAX_PIXELS = 4096 * 4096
QUALITIES = ("draft", "normal", "better", "best", "supreme")
ASPECTS = ("square", "widescreen", "portrait")
DEVICES = ("auto", "cpu", "cuda", "mps")
INIT_NOISES = ("pixels", "snow", "gradient", "paper", "none", "outline")
PALETTE_MODES = ("soft", "hard", "gumbel", "export")
PIXEL_TYPES = ("rect", "rectshift", "hex", "diamond", "tri", "knit")
INIT_LOSSES = ("mse", "l1")
OPTIMISERS = ("Adam", "AdamW", "Adagrad", "Adamax", "DiffGrad", "AdamP", "RAdam", "RMSprop")
SMOOTHNESS_TYPES = ("default", "clipped", "log")
EZSIZES = {"small": 1.0, "medium": 2.0, "large": 4.0}  # pixray's ezsize: a scale
BACKGROUNDS = ("keep", "remove")
COLOR_FITS = ("end", "during")
WALLPAPER_TYPES = ("tile", "horizontal", "shift", "mirror")


@dataclass
class Settings:
    # prompts
    prompts: list = setting([], parse_prompt_list, "prompts",
                            "text prompts separated by '|', each 'text[:weight[:stop]]'; a negative "
                            "weight pushes away from the text", metavar="TEXT")
    image_prompts: list = setting([], parse_prompt_list, "prompts",
                                  "image files to steer towards, 'path[:weight[:stop]]', '|'-separated",
                                  metavar="PATHS")
    image_prompt_weight: Any = setting(None, _number(float), "prompts",
                                       "weight of every image prompt that gives none of its own (default 1)")
    spot: list = setting([], parse_prompt_list, "prompts",
                         "prompts for the middle of the picture only (pixray's spot prompts; spot_file for "
                         "another mask)", metavar="TEXT")
    spot_off: list = setting([], parse_prompt_list, "prompts", "prompts for all but the middle of the picture",
                             metavar="TEXT")
    spot_file: Any = setting(None, parse_optional_str, "prompts",
                             "mask image for spot prompts: light = the spot (default: a centred ellipse)")
    labels: list = setting([], parse_prompt_list, "prompts",
                           "prompts read as class names: each is encoded through several 'a photo of a ...' "
                           "templates and averaged (pixray's labels)", metavar="TEXT")
    noise_prompt_seeds: list = setting([], parse_int_list, "prompts",
                                       "seeds of random CLIP directions to steer by (pixray's noise prompts)",
                                       metavar="N", nargs="+")
    noise_prompt_weights: list = setting([], parse_float_list, "prompts", "weights of the noise prompts",
                                         metavar="W", nargs="+")
    # drawer
    drawer: str = setting("pixel", str, "drawer", "what draws the image")
    size: Any = setting(None, parse_pair, "drawer",
                        "output size in pixels, WIDTH HEIGHT (default: from aspect and scale)",
                        minimum=1, maximum=MAX_SIDE, metavar="N", nargs="+")
    pixel_size: Any = setting(None, parse_pair, "drawer",
                              "pixel drawer grid in cells, WIDTH HEIGHT (default 80x45 widescreen, "
                              "40x40 square, 40x50 portrait, divided by pixel_scale)", minimum=1, maximum=MAX_SIDE,
                              metavar="N", nargs="+")
    pixel_scale: float = setting(1.0, _number(float), "drawer", "divides the default pixel_size", minimum=0.01)
    aspect: str = setting("widescreen", str, "drawer",
                          "image shape when size is not given (square with the embedded guide unless aspect, "
                          "size, pixel_size or an init image shape the picture; on a wide or tall one the guide "
                          "draws its thing in the centred square)", choices=ASPECTS)
    scale: Any = setting(None, _number(float), "drawer",
                         "output size as pixray's: scale x 192x108 (widescreen), 144x144 (square), 128x160 "
                         "(portrait); without it 400x225, 320x320, 320x400", minimum=0.1, maximum=40)
    ezsize: Any = setting(None, parse_optional_str, "drawer", "pixray's small, medium or large: scale 1, 2 or 4",
                          choices=tuple(EZSIZES))
    init_image: Any = setting(None, parse_optional_str, "drawer", "image file to start from")
    init_image_alpha: int = setting(255, _number(int), "drawer",
                                    "how much of init_image the start keeps (0 = all noise, 255 = all image)",
                                    minimum=0, maximum=255)
    init_noise: str = setting("pixels", str, "drawer", "what the drawer starts from without an init image "
                              "(paper: white, clipdraw's strokes faint and fft's colours linear; outline, "
                              "line_sketch only: strokes along the lines of the embedded guide's picture of the "
                              "prompt)", choices=INIT_NOISES)
    pixel_type: str = setting("rect", str, "drawer", "pixel drawer cell shape", choices=PIXEL_TYPES)
    vqgan_model: str = setting("imagenet_f16_16384", str, "drawer",
                               "VQGAN drawer: name of a taming checkpoint in ~/.cache/pixray/vqgan (or ./models)")
    vqgan_config: Any = setting(None, parse_optional_str, "drawer", "VQGAN drawer: taming config .yaml "
                                "(with vqgan_checkpoint, instead of vqgan_model)")
    vqgan_checkpoint: Any = setting(None, parse_optional_str, "drawer",
                                    "VQGAN drawer: taming checkpoint .ckpt ('random': untrained weights of "
                                    "vqgan_model's architecture, for tests)")
    vqgan_trust_checkpoint: bool = setting(False, parse_bool, "drawer",
                                           "VQGAN drawer: also load checkpoints that hold Python objects besides "
                                           "weights (a full unpickle runs any code in the file: only for files "
                                           "you trust)")
    strokes: int = setting(256, _number(int), "drawer", "clipdraw/line_sketch: number of strokes (line_sketch: "
                           "32 unless given)",
                           minimum=1, maximum=4096)
    stroke_length: float = setting(0.1, _number(float), "drawer",
                                   "clipdraw/line_sketch: longest extent of a stroke, as a fraction of the "
                                   "longer side (line_sketch: 0.4 unless given)", minimum=0.01, maximum=1.0)
    min_stroke_width: float = setting(1.0, _number(float), "drawer", "clipdraw: thinnest stroke in pixels",
                                      minimum=0.1)
    max_stroke_width: float = setting(5.0, _number(float), "drawer",
                                      "clipdraw: widest stroke in pixels (line_sketch: its one width)", minimum=0.1)
    allow_paper_color: bool = setting(False, parse_bool, "drawer",
                                      "clipdraw: let strokes be as light as the white paper (they can erase)")
    transparent: bool = setting(False, parse_bool, "drawer",
                                "RGBA sprite: the pixel drawer learns an alpha channel, judged over random "
                                "backgrounds; exported alpha is only 0 or 255")
    tile: bool = setting(False, parse_bool, "drawer", "make the picture a seamless tile (wraps left-right "
                         "and top-bottom; the wallpaper filter with wallpaper_type tile)")
    fft_use: str = setting("fft", str, "drawer", "fft drawer: what the parameters are: fft (a spectrum), dwt "
                           "(a wavelet pyramid), pixel", choices=("fft", "dwt", "pixel"))
    fft_decay: float = setting(1.5, _number(float), "drawer", "fft drawer: high frequencies damped by "
                               "1/f^decay (larger = smoother)", minimum=0.0, maximum=4.0)
    fft_wave: str = setting("coif2", str, "drawer", "fft drawer with fft_use dwt: the wavelet (haar, db4, coif2, "
                            "dmey, ...)")
    fft_sharp: float = setting(0.3, _number(float), "drawer", "fft drawer with fft_use dwt: weight of the finest "
                               "details (coarser levels up to 1)", minimum=0.0, maximum=4.0)
    fft_colors: float = setting(1.5, _number(float), "drawer", "fft drawer: colour strength", minimum=0.01,
                                maximum=10.0)
    fft_lrate: Any = setting(None, _number(float), "drawer", "fft drawer: learning rate when learning_rate is "
                             "not given (default 0.3)", minimum=0.0, maximum=100)
    # filters
    filters: list = setting([], parse_name_list, "filters",
                            "what the cutouts see instead of the picture, comma-separated, in order: wallpaper "
                            "(the picture repeats: see wallpaper_type), tiler (random circular shifts), lookup "
                            "(every pixel snapped to the palette, gradients straight through; pico8 without a "
                            "palette)", metavar="FILTERS")
    wallpaper_type: str = setting("tile", str, "filters",
                                  "wallpaper filter: tile (repeats both ways), horizontal (left-right only), shift "
                                  "(rows offset by half a width, as bricks), mirror (repeats mirrored)",
                                  choices=WALLPAPER_TYPES)
    wallpaper_edge_match: int = setting(0, _number(int), "filters",
                                        "wallpaper filter: extra loss making the first and last N pixel columns "
                                        "(and rows) alike (0 = off)", minimum=0, maximum=MAX_SIDE)
    lookup_beta: float = setting(10.0, _number(float), "filters",
                                 "lookup filter: weight pulling the free colours onto the palette colours the "
                                 "cutouts see", minimum=0.0)
    overlay_image: Any = setting(None, parse_optional_str, "drawer",
                                 "image pasted over the picture every overlay_every iterations (its alpha, or "
                                 "overlay_alpha, says how much)")
    overlay_every: int = setting(10, _number(int), "drawer", "iterations between overlays", minimum=1)
    overlay_offset: int = setting(0, _number(int), "drawer", "first overlay at this iteration", minimum=0)
    overlay_alpha: Any = setting(None, _number(int), "drawer", "opacity of the overlay (0-255; default: the "
                                 "image's own alpha)", minimum=0, maximum=255)
    # palette
    palette: Any = setting(None, parse_optional_str, "palette",
                           "limit colours: a name (pico8, nes, gameboy, cga, ega, c64, 1bit, grayscaleN), "
                           "a .hex/.gpl/.pal/.act file, an image ('photo.png\\16'), or pixray's DSL "
                           "('red->rust\\8;[black,#ff0000]')")
    palette_mode: str = setting("export", str, "palette",
                                "export: free colours, mapped onto the palette at the end; soft: free colours "
                                "pulled onto the palette by an annealed loss; hard: every cell is a palette "
                                "colour throughout (pixel drawer); gumbel: each cell a Gumbel-softmax mix of "
                                "palette colours, annealed to one (pixel drawer)",
                                choices=PALETTE_MODES)
    palette_weight: float = setting(1.0, _number(float), "palette", "weight of the soft palette loss",
                                    minimum=0.0)
    dither: str = setting("none", str, "palette", "dithering when the result is mapped to the palette",
                          choices=DITHERS)
    palette_space: str = setting("auto", str, "palette", "colour space in which the nearest palette colour "
                                 "is chosen; lightness maps the picture's range of light and dark onto a ramp "
                                 "of shades; auto: lightness for such a ramp (gameboy, greys, 1bit), else oklab",
                                 choices=SPACES)
    colors: int = setting(16, _number(int), "palette",
                          "without a palette, a sprite ends in this many colours chosen from the picture "
                          "(k-means in OKLab); 0 keeps every colour", minimum=0, maximum=256)
    colors_fit: str = setting("end", str, "palette",
                              "when the colors are chosen: end (from the finished picture) or during (refitted "
                              "every 10 iterations, a soft palette loss pulling towards them)", choices=COLOR_FITS)
    cleanup: bool = setting(True, parse_bool, "palette",
                            "recolour stray pixels of the sprite (1-pixel lines and lone details that stand out "
                            "stay); skipped when dithering")
    background: str = setting("keep", str, "palette", "remove: the backdrop colour around a sprite (reached "
                              "from its border) becomes transparent", choices=BACKGROUNDS)
    outline: Any = setting(None, parse_optional_str, "palette",
                           "1-pixel outline around a transparent sprite: auto (its darkest colour) or a colour "
                           "(snapped to the palette)")
    # losses
    custom_loss: list = setting([], parse_name_list, "losses",
                                "extra losses, 'name[:weight],...' from: palette, saturation, symmetry, "
                                "smoothness, edge, paper, style, trace (ink on the lines of init_image, else of "
                                "the embedded guide's picture of the prompt), pale_outline (trace, only when that "
                                "picture is pale: a ghost, a cloud), dark_parts (ink where that picture of a "
                                "coloured thing is dark: a frog's pupils)", metavar="LOSSES")
    edge_color: str = setting("white", str, "losses", "colour the edge loss pulls the border towards")
    edge_thickness: Any = setting(None, _number(int), "losses",
                                  "edge loss: width of the border band in pixels (default: 1/16 of the shorter "
                                  "side)", minimum=0)
    edge_margins: Any = setting(None, parse_quad, "losses", "edge loss: band widths LEFT RIGHT TOP BOTTOM in "
                                "pixels (instead of edge_thickness)", minimum=0, metavar="N", nargs="+")
    edge_color_weight: float = setting(1.0, _number(float), "losses", "edge loss: weight of the border band",
                                       minimum=0.0)
    global_color_weight: float = setting(0.0, _number(float), "losses",
                                         "edge loss: weight pulling the whole picture towards edge_color",
                                         minimum=0.0)
    style_file: Any = setting(None, parse_optional_str, "losses", "style loss (custom_loss style): the picture "
                              "whose textures and colours to follow")
    style_model: Any = setting(None, parse_optional_str, "losses",
                               "style loss: VGG16 weights file (default: torchvision's vgg16-397923af.pth in "
                               "torch's hub cache; 'random': untrained, for tests)")
    smoothness_type: str = setting("default", str, "losses",
                                   "smoothness loss on neighbour differences: default (as they are), clipped "
                                   "(each at most 0.5, so hard edges cost no more than soft ones), log",
                                   choices=SMOOTHNESS_TYPES)
    init_weight: float = setting(0.0, _number(float), "losses",
                                 "keep the drawer's parameters close to where init_image put them (spherical "
                                 "distance, pixray's)", minimum=0.0)
    init_weight_dist: float = setting(0.0, _number(float), "losses",
                                      "same, as a squared distance of the parameters", minimum=0.0)
    init_weight_cos: float = setting(0.0, _number(float), "losses",
                                     "same, as a cosine distance of the parameters", minimum=0.0)
    init_weight_pix: float = setting(0.0, _number(float), "losses",
                                     "keep the picture close to init_image in pixel space", minimum=0.0)
    init_loss: str = setting("l1", str, "losses", "pixel distance used by init_weight_pix", choices=INIT_LOSSES)
    init_clip_weight: float = setting(0.0, _number(float), "losses",
                                      "keep what CLIP sees close to init_image", minimum=0.0)
    transparent_weight: float = setting(0.0, _number(float), "losses",
                                        "with transparent: a positive weight pushes towards transparency, a "
                                        "negative one towards opaque (pixray's alpha_weight)")
    # perception
    quality: str = setting("normal", str, "perception",
                           "preset for clip_models, num_cuts and iterations (CPU-sane)", choices=QUALITIES)
    clip_models: list = setting([], parse_name_list, "perception",
                                "CLIP models, comma-separated: pixray names (ViT-B/32, RN50) or open_clip "
                                "ARCH:PRETRAINED (ViT-B-32:laion2b_s34b_b79k, ViT-B-32:/path.pt, "
                                "ViT-B-32:random)", metavar="NAMES")
    num_cuts: Any = setting(None, _number(int), "perception", "random cutouts scored per iteration",
                            minimum=1, maximum=512)
    batches: int = setting(1, _number(int), "perception",
                           "batches of cutouts per iteration, their gradients added up (more cutouts in the "
                           "same memory)", minimum=1, maximum=64)
    cut_power: float = setting(1.0, _number(float), "perception",
                               "cutout size distribution: above 1 more small cutouts (details), below 1 more "
                               "large ones", minimum=0.1, maximum=10)
    guide_picture_mix: float = setting(0.75, _number(float), "perception",
                                       "embedded guide: how much of what a prompt steers towards is the guide's "
                                       "view of the emoji pictures that match it (1) rather than of its words (0); the "
                                       "sprite drawer's default is 0",
                                       minimum=0.0, maximum=1.0)
    # optimisation
    iterations: Any = setting(None, _number(int), "optimisation", "optimisation steps", minimum=0,
                              maximum=1_000_000)
    learning_rate: Any = setting(None, _number(float), "optimisation",
                                 "Adam learning rate (default: the drawer's)", minimum=0.0, maximum=100)
    learning_rate_drops: list = setting([75.0], parse_drops, "optimisation",
                                        "percent of iterations at which the learning rate drops 10x "
                                        "(pixray's '100i': at iteration 100)",
                                        metavar="PERCENT", nargs="+")
    optimiser: str = setting("Adam", parse_optimiser, "optimisation", "optimiser (pixray's list)",
                             choices=OPTIMISERS)
    auto_stop: bool = setting(False, parse_bool, "optimisation",
                              "drop the learning rate 10x when the loss has not improved for 20 iterations, and "
                              "stop after as many drops as learning_rate_drops has")
    deterministic: bool = setting(False, parse_bool, "optimisation",
                                  "also make CUDA deterministic (slower); CPU runs always are")
    seed: Any = setting(None, parse_seed, "optimisation", "int or any string; the same seed gives the same image")
    device: str = setting("auto", str, "optimisation", "where to compute (auto picks cuda, then mps, then cpu)",
                          choices=DEVICES)
    # output
    outdir: str = setting(DEFAULT_OUTDIR, parse_outdir, "output",
                          "folder for this run; %DATE%, %TIME% and %SEQ% are filled in, and an existing "
                          "non-empty folder gets a new suffix unless overwrite is set")
    output: str = setting("output.png", parse_output_name, "output",
                          "file name (.png) of the final image inside outdir (pixray's relative "
                          "folder/name.png: the folder becomes outdir)")
    overwrite: bool = setting(False, parse_bool, "output", "reuse outdir even if it already holds files")
    save_every: Any = setting(10, parse_every, "output", "write a frame to outdir/steps every N iterations "
                              "(0 = never; pixray's '5 iterations' or '10%' work too)", minimum=0)
    video: bool = setting(False, parse_bool, "output", "also write output.mp4 of the progress frames "
                          "(nearest-neighbour upscaled, ffmpeg bundled by imageio-ffmpeg)")
    gif: bool = setting(False, parse_bool, "output", "also write an animated output.gif of the progress frames")
    video_fps: int = setting(10, _number(int), "output", "frames per second of the video and GIF",
                             minimum=1, maximum=60)
    display_every: Any = setting(10, parse_every, "output",
                                 "report progress (image, losses) every N iterations (0 = only at the end; "
                                 "pixray's '5 iterations' or '10%' work too)", minimum=0)

    def to_dict(self) -> dict:
        """Plain YAML/JSON-friendly values (tuples become lists)."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def replace(self, **changes) -> "Settings":
        return dataclasses.replace(self, **changes)


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


FIELDS = {f.name: f for f in dataclasses.fields(Settings)}

# Other spellings users of pixray/clipit type; mapped before anything else.
ALIASES = {
    "prompt": "prompts",
    "cutn": "num_cuts",
    "lr": "learning_rate",
    "clip_model": "clip_models",
    "steps": "iterations",
    "max_iterations": "iterations",
    "image_prompt": "image_prompts",
    **PIXRAY_ALIASES,
}


def _bare(key: str) -> str:
    """A key as written on the command line or in YAML → snake_case without leading dashes."""
    return key.strip().lstrip("-").replace("-", "_")


def canonical_name(key: str) -> str:
    """Map dash-case and aliases to the field name, or raise with the closest valid names."""
    name = _bare(key)
    name = ALIASES.get(name, name)
    if name in FIELDS:
        return name
    close = difflib.get_close_matches(name, list(FIELDS) + list(ALIASES), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else "; run `pixray --help` for the list"
    raise SettingsError(f"unknown setting {key!r}{hint}")


def coerce(name: str, value: Any) -> Any:
    """Parse one value for the named field, naming the setting in any error."""
    meta = FIELDS[name].metadata
    try:
        parsed = meta["parse"](value)
    except (TypeError, ValueError, OverflowError) as err:
        raise SettingsError(f"setting {name!r}: cannot use {value!r}: {err}") from None
    _check_bounds(name, parsed)
    return parsed


def _check_bounds(name: str, value: Any) -> None:
    meta = FIELDS[name].metadata
    if value is None:
        return
    if meta["choices"] and value not in meta["choices"]:
        raise SettingsError(f"setting {name!r}: {value!r} is not one of {', '.join(meta['choices'])}")
    lo, hi = meta["minimum"], meta["maximum"]
    numbers = value if isinstance(value, tuple) else [value] if isinstance(value, (int, float)) else []
    for number in numbers:
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            allowed = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
            raise SettingsError(f"setting {name!r}: {number} is out of range; allowed: {allowed}")


def _pixray_spellings(values: dict) -> dict:
    """Replace pixray's other spellings by our settings (settings given directly, in any spelling, win)."""
    out, implied = {}, {}
    for key, value in values.items():
        name = _bare(key)
        if name in PIXRAY_IGNORED:
            if value not in (None, False, "", []):
                warn(f"setting {name!r} (pixray's) is ignored: {PIXRAY_IGNORED[name]}")
            continue
        if name not in PIXRAY_SPELLINGS:
            out[key] = value
            continue
        try:
            implied.update(PIXRAY_SPELLINGS[name][parse_bool(value)])
        except ValueError as err:
            raise SettingsError(f"setting {name!r}: cannot use {value!r}: {err}") from None
    given = {ALIASES.get(_bare(key), _bare(key)) for key in out}
    return {**out, **{name: value for name, value in implied.items() if name not in given}}


def normalise(values: dict) -> dict:
    """Canonical names and parsed values for a dict of user settings. Every unknown key and bad value
    is reported at once, in one line."""
    out, problems = {}, []
    for key, value in _pixray_spellings(values).items():
        try:
            name = canonical_name(key)
            out[name] = coerce(name, value)
        except SettingsError as err:
            problems.append(str(err))
    if problems:
        raise SettingsError("; ".join(problems))
    return out


def load_yaml(path: str | os.PathLike) -> dict:
    """Read a YAML settings file into a normalised dict."""
    where = f"config file {str(path)!r}"
    if Path(path).is_dir():
        raise SettingsError(f"{where} is a folder, not a YAML file")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SettingsError(f"{where} does not exist") from None
    except UnicodeDecodeError:
        raise SettingsError(f"{where} is not a text (YAML) file") from None
    return parse_yaml_text(text, where)


def parse_yaml_text(text: str, where: str = "settings") -> dict:
    """YAML settings text (a file's, or cog's `settings` input) → a normalised dict."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise SettingsError(f"{where} is not valid YAML{at}: {problem}") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{where} must hold a mapping of setting: value")
    return normalise(data)


# ---------------------------------------------------------------------------------------------
# Presets. CPU-sane: on two cores ViT-B/32 costs ~1.6 s per iteration at 8 cuts.

QUALITY_PRESETS = {
    "draft": dict(clip_models=["ViT-B/32"], num_cuts=8, iterations=100),
    "normal": dict(clip_models=["ViT-B/32"], num_cuts=16, iterations=200),
    "better": dict(clip_models=["ViT-B/32", "ViT-B/16"], num_cuts=24, iterations=300),
    "best": dict(clip_models=["ViT-B/32", "ViT-B/16", "RN50"], num_cuts=32, iterations=400),
    "supreme": dict(clip_models=["ViT-B/32", "ViT-B/16", "RN50", "RN101"], num_cuts=32, iterations=500),
}

# Output size without `scale`, chosen so the pixel drawer's default grids divide it exactly.
ASPECT_SIZES = {"square": (320, 320), "widescreen": (400, 225), "portrait": (320, 400)}
# What pixray's `scale` multiplies (its scale 2.5 is 480x270, as pixray users expect).
PIXRAY_BASE_SIZES = {"square": (144, 144), "widescreen": (192, 108), "portrait": (128, 160)}


def _base_size(settings: Settings) -> tuple[float, float]:
    """The output size from aspect and scale (or pixray's ezsize) when no size is given."""
    scale = settings.scale if settings.scale is not None else EZSIZES.get(settings.ezsize)
    if scale is None:
        return ASPECT_SIZES[settings.aspect]
    width, height = PIXRAY_BASE_SIZES[settings.aspect]
    return width * scale, height * scale


# An init image no larger than this on either side is taken as a sprite: the grid becomes its pixels.
SPRITE_SIDE = 256


# With the embedded guide, the drawer that measured best (benchmarks/guide_quality.py, MODEL_CARD.md).
EMBEDDED_DRAWER = "sprite"


def _fall_back_to_embedded(settings: Settings, values: dict, announce: bool) -> None:
    """Keep the preset's CLIP models that can load here; if none can, use the embedded guide (and,
    unless the user chose a drawer or gave an init image whose shape must be kept, its best drawer), and
    say so in one line (unless `announce` is off: a batch says it once)."""
    from . import perceptors

    wanted = settings.clip_models
    usable = [n for n in wanted if perceptors.weights_available(perceptors.parse_model_name(n))]
    if usable:
        settings.clip_models = usable
        return
    settings.clip_models = [perceptors.EMBEDDED]
    how = ""
    if "drawer" not in values and settings.init_image is None:
        settings.drawer = EMBEDDED_DRAWER
        how = f" with the {EMBEDDED_DRAWER} drawer"
    if announce:
        print(f"pixray: no CLIP weights for {', '.join(wanted)} here and no internet: using the embedded guide"
              f"{how} (small, emoji-trained; see MODEL_CARD.md); pass clip_models to choose", file=sys.stderr)


# With the embedded guide the pixel drawer starts on white paper and it, clipdraw and fft keep the
# cells the prompt does not ask for white (a small guide leaves a noise start noisy): without it clipdraw
# piled strokes into dark corners (R@1 coarsened 0.61, 0.73 with it). Weight 0.5 of the paper loss's
# distance from white (benchmarks/guide_quality.py, MODEL_CARD.md, session 18): against 1.0 of its square,
# the pixel drawer's pale fringe 0.062 -> 0.013 of its cells, R@1 0.80 / 0.76 -> 0.75 / 0.74 over three
# seeds. fft starts on white paper too, its colours linear there (through its sigmoid a white start made
# small, pale things, and a grey one a murky page): R@1 0.62 / 0.57 -> 0.70 / 0.72 over three seeds,
# colour words 0.75 -> 0.88 (MODEL_CARD.md, session 24).
# line_sketch can only draw black lines, which the guide (it learned coloured emoji) reads as blots: its
# strokes start along the lines of the guide's own picture of the prompt and the trace loss keeps them
# there while the guide steers (MODEL_CARD.md).
# A pale thing (a ghost, a cloud, a skull) on that paper shows only by its outline: steered towards its
# picture, the pixel, clipdraw and fft drawers painted a few specks (eyes, a mouth); pale_outline keeps ink on
# the outline and on its dark parts (a skull's eye holes; MODEL_CARD.md, sessions 21 and 22).
# clipdraw's strokes start faint on that paper (init_noise=paper): started opaque in random colours, a few
# dark ones the guide never asked for stayed (a dark green slash beside two coloured hearts; R@1 0.75 / 0.76
# -> 0.77 / 0.78 over two seeds, MODEL_CARD.md, session 23).
# The pixel, clipdraw and fft drawers also ink a coloured thing's dark parts (a frog's pupils, a cat's eyes,
# a burger's patty): steered by the guide alone they painted their colours and left those out (dark_parts;
# MODEL_CARD.md, sessions 25 and 27). Applied as copies.
ON_PAPER = dict(init_noise="paper", custom_loss=["paper:0.5", "pale_outline:1.0", "dark_parts:1.0"])
EMBEDDED_DRAWER_DEFAULTS = {"pixel": ON_PAPER, "clipdraw": ON_PAPER, "fft": ON_PAPER,
                            "line_sketch": dict(init_noise="outline", custom_loss=["trace:3.0"])}
# With an init image the picture starts from it, not from paper or the guide's lines; line_sketch's
# strokes start on the image's own lines and the trace loss keeps them there (without it the guide
# scribbled them into blots).
EMBEDDED_INIT_IMAGE_DEFAULTS = {"line_sketch": dict(custom_loss=["trace:3.0"])}


def _embedded_only(settings: Settings) -> bool:
    """Whether the embedded guide is the only perceptor."""
    from .perceptors import EMBEDDED

    return all(name.partition(":")[0] == EMBEDDED for name in settings.clip_models)


def _embedded_defaults(settings: Settings, values: dict) -> None:
    if not _embedded_only(settings):
        return
    # The guide learned one thing in a square frame: on a wide canvas the pixel drawer stretched a frog
    # across all 80x45 cells. Square unless the user shaped the picture (or an init image does).
    if settings.init_image is None and not {"aspect", "size", "pixel_size"} & set(values):
        settings.aspect = "square"
    table = EMBEDDED_DRAWER_DEFAULTS if settings.init_image is None else EMBEDDED_INIT_IMAGE_DEFAULTS
    defaults = table.get(settings.drawer)
    if defaults is not None:
        for name, value in defaults.items():
            if name not in values:
                setattr(settings, name, list(value) if isinstance(value, list) else value)


def _check_outline(settings: Settings) -> None:
    """init_noise=outline and the trace loss draw on the embedded guide's picture of a text prompt (both
    on the init image's own lines when there is one); pale_outline and dark_parts too, when there is a text
    prompt (they leave a picture without one alone)."""
    from .guide.bank import require_sprite_bank
    from .prompts import wanted_texts

    if settings.init_noise == "outline" and settings.drawer != "line_sketch":
        raise SettingsError(f"setting 'init_noise': 'outline' lays line_sketch's strokes along lines; drawer "
                            f"{settings.drawer!r} allows {', '.join(n for n in INIT_NOISES if n != 'outline')}")
    if settings.init_image is not None:
        return
    users = (["setting 'init_noise': 'outline'"] if settings.init_noise == "outline" else []) + \
        (["setting 'custom_loss': 'trace'"] if "trace" in _custom_loss_names(settings) else [])
    if not users:
        for name in ("pale_outline", "dark_parts"):
            if name in _custom_loss_names(settings) and wanted_texts(settings.prompts):
                require_sprite_bank(f"setting 'custom_loss': {name!r}")
        return
    if not wanted_texts(settings.prompts):
        raise SettingsError(f"{users[0]} follows the lines of the embedded guide's picture of a text prompt; "
                            f"give a prompt with a positive weight")
    require_sprite_bank(users[0])


def _check_embedded_prompts(settings: Settings) -> None:
    """The embedded guide alone, given text prompts that only say how to draw ("pixel art", "8-bit") and
    nothing else to steer by: it would steer towards its pictures of nothing in particular."""
    from .guide.bank import spelled_out_by_shipped_bank
    from .guide.model import says_a_thing
    from .prompts import parse_prompt

    if not _embedded_only(settings):
        return
    texts = [parse_prompt(prompt).text for prompt in settings.prompts]  # a pull or a push: it must read either
    if (texts and not settings.image_prompts and not settings.labels
            and not any(map(says_a_thing, spelled_out_by_shipped_bank(texts)))):
        raise SettingsError(f"setting 'prompts': the embedded guide reads no thing to draw in {' | '.join(texts)!r} "
                            f"(it leaves out words about how to draw, like 'pixel art' and '8-bit'); name one, "
                            f"like 'a red apple, pixel art'")


def _check_prompts(settings: Settings) -> None:
    from .prompts import parse_prompt

    if not settings.prompts and not settings.image_prompts:
        raise SettingsError("setting 'prompts': give at least one text prompt (or image_prompts)")
    for text in settings.prompts:
        parse_prompt(text)  # raises SettingsError on a malformed weight
        if re.search(r"\d:\d+(?:\.\d*)?\s*$", text.strip()):
            warn(f"setting 'prompts': in {text!r} the number after the last ':' is read as a weight; "
                 f"write '\\:' for a literal colon (like 10\\:30)")
    for text in settings.image_prompts:
        open_image(parse_prompt(text, "image_prompts").text, "image_prompts")


# Weights that anchor the run to init_image: the drawer's parameters (pixray's z), then the pixels and CLIP.
LATENT_ANCHORS = ("init_weight", "init_weight_dist", "init_weight_cos")
ANCHOR_WEIGHTS = (*LATENT_ANCHORS, "init_weight_pix", "init_clip_weight")


def _custom_loss_names(settings: Settings) -> list[str]:
    return [entry.partition(":")[0].strip().lower() for entry in settings.custom_loss]


def _check_inputs(settings: Settings, values: dict) -> None:
    """Checks that need no drawer, model or torch: prompts, files, palette, output folder."""
    _check_prompts(settings)
    if settings.init_image is not None:
        open_image(settings.init_image, "init_image")
    anchors = [name for name in ANCHOR_WEIGHTS if getattr(settings, name)]
    if anchors and not settings.init_image:
        raise SettingsError(f"setting {anchors[0]!r}: anchoring to the init image needs an init_image")
    if len(settings.noise_prompt_seeds) != len(settings.noise_prompt_weights):
        raise SettingsError(f"settings 'noise_prompt_seeds' and 'noise_prompt_weights': give one weight per seed "
                            f"({len(settings.noise_prompt_seeds)} seeds, {len(settings.noise_prompt_weights)} weights)")
    if settings.transparent_weight and not settings.transparent:
        raise SettingsError("setting 'transparent_weight': it weighs the alpha channel; set transparent=true too")
    if "style" in _custom_loss_names(settings):
        from .losses.style import vgg16_weights

        if not settings.style_file:
            raise SettingsError("setting 'custom_loss': 'style' needs style_file, the picture whose style to follow")
        vgg16_weights(settings.style_model)  # one line naming the missing weights, before anything loads
    for name in ("overlay_image", "spot_file", "style_file"):
        if getattr(settings, name) is not None:
            open_image(getattr(settings, name), name)
    for drop in settings.learning_rate_drops:
        if not 0 < drop < 100:
            raise SettingsError(f"setting 'learning_rate_drops': {drop} is out of range; allowed: more than 0 and "
                                f"less than 100 (percent of the iterations)")
    if settings.palette is not None:
        load_palette(settings.palette)  # raises PaletteError naming the file and line
    elif settings.dither != "none" and not settings.colors:
        warn(f"setting 'dither': {settings.dither!r} has no effect without a palette or colors; set one")
    if settings.colors == 1:
        raise SettingsError("setting 'colors': 1 is out of range; allowed: 0 (every colour) or 2 to 256")
    if settings.cleanup and settings.dither != "none" and "cleanup" in values:
        raise SettingsError(f"setting 'cleanup': removing stray pixels would erase the {settings.dither} "
                            f"pattern; set cleanup=false or dither=none")
    if settings.outline is not None:
        if settings.outline != "auto":
            try:
                parse_color(settings.outline)
            except PaletteError as err:
                raise SettingsError(f"setting 'outline': {err}; allowed: auto or a colour") from None
        if not (settings.transparent or settings.background == "remove"):
            raise SettingsError("setting 'outline': an outline goes around a transparent sprite; set "
                                "transparent=true or background=remove too")
    if "edge" in _custom_loss_names(settings):
        try:
            parse_color(settings.edge_color)
        except PaletteError as err:
            raise SettingsError(f"setting 'edge_color': {err}") from None
    check_outdir(settings.outdir)


def _fixed_grid(settings: Settings, values: dict, grid: tuple[int, int]) -> tuple[int, int]:
    """The grid of a drawer that paints a fixed one (the sprite prior's 32x32): as it is, or, when the user
    shaped the picture otherwise (a size, an aspect, an init image), that shape with the grid's short side
    kept (widescreen: 57x32), where the drawer centres its picture on paper instead of stretching it."""
    if settings.size is not None:
        width, height = settings.size
    elif "aspect" in values:
        width, height = _base_size(settings)
    elif settings.init_image is not None:
        width, height = image_size(settings.init_image)
    else:
        return grid
    side = min(grid)
    if width >= height:
        return max(side, round(side * width / height)), side
    return side, max(side, round(side * height / width))


def _shape(settings: Settings, values: dict, drawer) -> None:
    """Output size and cell grid. Cells are whole numbers of pixels unless the user's own size and grid
    disagree: a given grid picks the size (a whole multiple of it), a given size picks the grid, an init
    image with neither (and no aspect) lends its shape."""
    if settings.pixel_size is None and drawer.default_pixel_size is not None:
        settings.pixel_size = _fixed_grid(settings, values, drawer.default_pixel_size)
    if settings.init_image is not None and not {"size", "pixel_size", "aspect"} & set(values):
        width, height = image_size(settings.init_image)
        if max(width, height) <= SPRITE_SIDE and drawer.native_grid and drawer.default_pixel_size is None:
            settings.pixel_size = (width, height)  # a sprite: refine it cell for cell
        else:
            longest = max(_base_size(settings))
            factor = longest / max(width, height)
            settings.size = (max(1, round(width * factor)), max(1, round(height * factor)))
    base_w, base_h = _base_size(settings)
    if settings.size is None and settings.pixel_size is not None:
        cells_w, cells_h = settings.pixel_size
        factor = max(1, round(min(base_w / cells_w, base_h / cells_h)))
        settings.size = (cells_w * factor, cells_h * factor)
    if settings.size is None:
        settings.size = (max(1, round(base_w)), max(1, round(base_h)))
    given = "size" if "size" in values else "size (from aspect and scale)"
    _check_bounds("size", settings.size)
    if settings.size[0] * settings.size[1] > MAX_PIXELS:
        raise SettingsError(f"setting 'size': {settings.size[0]}x{settings.size[1]} ({given}) has more than "
                            f"{MAX_PIXELS:,} pixels; allowed: up to 4096x4096 or the same area")
    drawer.resolve_settings(settings)
    if settings.pixel_size is None:
        return
    (cells_w, cells_h), (width, height) = settings.pixel_size, settings.size
    if not (1 <= cells_w <= width and 1 <= cells_h <= height):
        raise SettingsError(f"setting 'pixel_size': {cells_w}x{cells_h} cells must be between 1x1 and the "
                            f"output size {width}x{height}")
    if settings.pixel_type == "rect" and (width % cells_w or height % cells_h):
        fit = max(1, min(width // cells_w, height // cells_h))
        if "size" not in values:  # the size was ours to choose: make every cell `fit` pixels
            settings.size = (cells_w * fit, cells_h * fit)
            return
        warn(f"setting 'size': {width}x{height} is not a whole multiple of the {cells_w}x{cells_h} cells, so "
             f"cells differ by a pixel (mixels); {cells_w * fit}x{cells_h * fit} would give {fit}-pixel cells")


# Filters that make the picture repeat (smoothness and the export then treat it as a tile).
REPEATING_FILTERS = ("wallpaper", "tiler")
LOOKUP_PALETTE = "pico8"  # pixray's lookup had a built-in 16-colour table


def _check_filters(settings: Settings) -> None:
    from .filters import BUILTIN

    unknown = [name for name in settings.filters if name not in BUILTIN]
    if unknown:
        raise SettingsError(f"setting 'filters': {', '.join(map(repr, unknown))} is not one of {', '.join(BUILTIN)}")
    if settings.tile and not set(REPEATING_FILTERS) & set(settings.filters):
        settings.filters = ["wallpaper", *settings.filters]
    settings.tile = settings.tile or bool(set(REPEATING_FILTERS) & set(settings.filters))
    if "lookup" in settings.filters and settings.palette is None:
        settings.palette = LOOKUP_PALETTE


def _split_output_path(settings: Settings, values: dict) -> None:
    """pixray's output 'outputs/x.png': the folder is the run's folder (a new numbered one if it already
    holds files), x.png the file in it."""
    folder, _, name = settings.output.rpartition("/")
    if not folder:
        return
    if "outdir" in values:
        raise SettingsError(f"setting 'output': {settings.output!r} names a folder and so does outdir "
                            f"({settings.outdir!r}); give the folder in outdir and a file name in output")
    settings.outdir, settings.output = folder, name


def resolve(values: dict, losses: dict | None = None, announce: bool = True) -> Settings:
    """Build validated Settings from explicit user values: presets fill only what was not given.
    Checks that need no torch run first, so a typo costs milliseconds. `announce`: say in one line
    when the embedded guide stands in for CLIP weights that are not here."""
    values = normalise(values)
    settings = Settings(**values)
    _split_output_path(settings, values)
    preset = QUALITY_PRESETS[settings.quality]
    for name, value in preset.items():
        if name not in values or values[name] in (None, []):
            setattr(settings, name, list(value) if isinstance(value, list) else value)
    _resolve_units(settings)
    _check_inputs(settings, values)

    from . import perceptors
    from .drawers import drawer_class
    from .losses import parse_custom_loss

    for entry in settings.custom_loss:
        parse_custom_loss(entry, losses)  # raises on unknown names and bad weights
    _check_filters(settings)
    if not values.get("clip_models"):  # after the cheap checks: this may probe the network
        _fall_back_to_embedded(settings, values, announce)
    try:
        drawer = drawer_class(settings.drawer)
    except KeyError as err:
        raise SettingsError(f"setting 'drawer': {err.args[0]}") from None
    for name, value in drawer.setting_defaults.items():
        # a drawer's palette yields to the colours a user asks for
        if name not in values and not (name == "palette" and "colors" in values):
            setattr(settings, name, value)
    _embedded_defaults(settings, values)
    _check_embedded_prompts(settings)
    _check_outline(settings)
    if settings.palette_mode in ("hard", "gumbel") and not drawer.supports_hard_palette:
        raise SettingsError(f"setting 'palette_mode': {settings.palette_mode!r} does not work with drawer "
                            f"{settings.drawer!r}; allowed: soft, export")
    if "palette_mode" in values and settings.palette_mode in ("hard", "gumbel") and settings.palette is None:
        raise SettingsError(f"setting 'palette_mode': {settings.palette_mode!r} needs a palette")
    if settings.overlay_image is not None and not drawer.supports_reapply:
        raise SettingsError(f"setting 'overlay_image': drawer {settings.drawer!r} cannot redraw itself from a "
                            f"picture; allowed with pixel, vqgan, fft, sprite")
    if settings.transparent and not drawer.supports_transparency:
        raise SettingsError(f"setting 'transparent': drawer {settings.drawer!r} has no alpha channel")
    _shape(settings, values, drawer)
    if settings.learning_rate is None:
        settings.learning_rate = drawer.default_learning_rate

    for name in settings.clip_models:
        perceptors.parse_model_name(name)  # raises SettingsError on unknown architectures/tags
    if settings.device == "cuda":
        import torch
        if not torch.cuda.is_available():
            raise SettingsError("setting 'device': cuda was asked for but torch sees no CUDA device; "
                                "allowed here: auto, cpu")
    if settings.device == "mps":
        import torch
        if not torch.backends.mps.is_available():
            raise SettingsError("setting 'device': mps was asked for but is not available; allowed here: auto, cpu")
    return settings
