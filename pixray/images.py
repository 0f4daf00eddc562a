"""Conversions between PIL images and tensors, and init images as tensors."""

from __future__ import annotations

import torch
from PIL import Image, ImageOps

from .image_files import open_image


def tensor_to_pil(image: torch.Tensor) -> Image.Image:
    """(1,C,H,W) or (C,H,W) in [0,1] → 8-bit PIL image (RGB or RGBA)."""
    if image.dim() == 4:
        image = image[0]
    array = (image.detach().clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    return Image.fromarray(array, "RGBA" if array.shape[2] == 4 else "RGB")


def over(rgba: torch.Tensor, background) -> torch.Tensor:
    """(B,4,H,W) composited "over" a background (a tensor that broadcasts, or a grey level) → (B,3,H,W)."""
    alpha = rgba[:, 3:]
    return rgba[:, :3] * alpha + background * (1 - alpha)


def pil_to_tensor(image: Image.Image, mode: str = "RGB") -> torch.Tensor:
    """PIL image → (1,3,H,W) float in [0,1] ((1,4,H,W) with mode RGBA)."""
    pixels = image.convert(mode)
    data = torch.frombuffer(bytearray(pixels.tobytes()), dtype=torch.uint8)
    return data.view(pixels.height, pixels.width, len(mode)).permute(2, 0, 1).unsqueeze(0).float() / 255


def load_image_tensor(path: str, size: tuple[int, int], setting: str = "init_image",
                      keep_alpha: bool = False) -> torch.Tensor:
    """Load an image cropped to the aspect of `size` (centre) and resized to it: (1,3,H,W), or
    (1,4,H,W) with its alpha."""
    image = open_image(path, setting, keep_alpha=keep_alpha)
    image = ImageOps.fit(image.convert("RGBA") if keep_alpha else image, size, method=Image.Resampling.LANCZOS)
    return pil_to_tensor(image, "RGBA" if keep_alpha else "RGB")
