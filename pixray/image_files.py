"""Reading image files a user names (init_image, image_prompts, palette images, pixelate input):
every mode PIL opens becomes 8-bit RGB, and every failure is one line naming the setting.
Free of torch, so inputs are checked before any model library loads."""

from __future__ import annotations

import os
import warnings

import numpy as np
from PIL import Image, ImageOps

from .errors import SettingsError

# Larger pictures are refused before they are decoded (PIL itself gives up at ~179 million pixels).
MAX_IMAGE_PIXELS = 100_000_000
PAPER = (255, 255, 255)  # what transparent parts of an input image become


def to_rgb(image: Image.Image) -> Image.Image:
    """Any mode PIL opens → 8-bit RGB: 16-bit and 32-bit greys are scaled, not clipped (a 16-bit PNG
    would otherwise read as white), float images in [0,1] or [0,255], transparency over white."""
    if image.mode.startswith("I;16") or image.mode in ("I", "F"):
        values = np.asarray(image, dtype=np.float64)
        top = float(values.max()) if values.size else 0.0
        if image.mode.startswith("I;16") or (image.mode == "I" and top > 255):
            values = values / 257          # 0..65535 → 0..255
        elif image.mode == "F" and top <= 1.0:
            values = values * 255          # float images in [0,1]
        grey = Image.fromarray(np.clip(np.round(values), 0, 255).astype(np.uint8), "L")
        return grey.convert("RGB")
    if has_alpha(image):
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        background = Image.new("RGBA", image.size, PAPER + (255,))
        return Image.alpha_composite(background, image).convert("RGB")
    return image.convert("RGB")


def has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "La", "PA", "RGBa") or (image.mode == "P" and "transparency" in image.info)


def open_image(path: str, setting: str = "image", keep_alpha: bool = False) -> Image.Image:
    """Read an image file as 8-bit RGB (EXIF rotation applied), or RGBA when `keep_alpha` and the file
    has transparency; errors name `setting` in one line."""
    where = f"setting {setting!r}: {path!r}"
    if os.path.isdir(path):
        raise SettingsError(f"{where} is a folder, not an image file")
    if not os.path.isfile(path):
        raise SettingsError(f"{where} does not exist")
    limit = f"at most {MAX_IMAGE_PIXELS // 1_000_000} million pixels are read"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise SettingsError(f"{where} is {width}x{height} pixels; {limit}")
                upright = ImageOps.exif_transpose(image)
                return upright.convert("RGBA") if keep_alpha and has_alpha(upright) else to_rgb(upright)
    except SettingsError:
        raise
    except Image.DecompressionBombError:
        raise SettingsError(f"{where} is too large to read; {limit}") from None
    except (OSError, ValueError, SyntaxError) as err:
        raise SettingsError(f"{where} is not an image PIL can read ({err})") from None


def image_size(path: str) -> tuple[int, int]:
    """Width and height as the picture is shown (EXIF rotation applied), from the header only."""
    with Image.open(path) as image:
        width, height = image.size
        orientation = image.getexif().get(0x0112, 1)
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)
