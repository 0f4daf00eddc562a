"""pixray's spot prompts: some prompts judge only the middle of the picture (spot), others only the
rest (spot_off). The mask is a centred ellipse, or the light part of spot_file."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .image_files import open_image
from .images import pil_to_tensor

# Radii of the default spot as fractions of the width and height.
SPOT_RADIUS = 0.3


def spot_mask(height: int, width: int, spot_file: str | None = None) -> torch.Tensor:
    """(1,1,H,W) in {0,1}: 1 inside the spot."""
    if spot_file is not None:
        mask = pil_to_tensor(open_image(spot_file, "spot_file")).mean(1, keepdim=True)
        return (F.interpolate(mask, size=(height, width), mode="bilinear", align_corners=False) >= 0.5).float()
    y = (torch.arange(height) + 0.5) / height - 0.5
    x = (torch.arange(width) + 0.5) / width - 0.5
    inside = (x[None, :] / SPOT_RADIUS) ** 2 + (y[:, None] / SPOT_RADIUS) ** 2 <= 1
    return inside.float()[None, None]
