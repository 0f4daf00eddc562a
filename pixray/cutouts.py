"""Random cutouts: one batch of N augmented crops per step, as CLIP sees them."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from kornia import augmentation as K


def centre_square(image: torch.Tensor) -> torch.Tensor:
    """The centred square of a (B,C,H,W) picture, as tall and as wide as its short side."""
    height, width = image.shape[-2:]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    return image[..., top:top + side, left:left + side]


class Cutouts(torch.nn.Module):
    """`num_cuts` crops of one image, each resized to `cut_size` and augmented; a crop covers at least
    `min_area` of the picture (the perceptor says how small a part it can still recognise).

    No hue/saturation jitter: it tripled the cost of the pipeline (HSV round trip, measured in
    benchmarks/loop_overhead.py) and makes CLIP less sure of the colours a pixel artist asked for.

    Kornia draws from torch's global RNG, so each call seeds a forked RNG from the session's
    generator: runs are reproducible and the caller's global RNG is left untouched."""

    def __init__(self, cut_size: int, num_cuts: int, min_area: float = 0.15, cut_power: float = 1.0):
        super().__init__()
        self.num_cuts = num_cuts
        self.cut_size, self.min_area, self.cut_power = cut_size, min_area, cut_power
        crop = [K.RandomResizedCrop((cut_size, cut_size), scale=(min_area, 1.0), ratio=(0.75, 4 / 3))]
        self.augment = K.AugmentationSequential(
            *(crop if cut_power == 1 else []),
            K.RandomAffine(degrees=12, translate=(0.05, 0.05), padding_mode="border", p=0.7),
            K.RandomPerspective(distortion_scale=0.3, p=0.5),
            K.RandomGaussianNoise(std=0.03, p=0.5),
        )

    def forward(self, image: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        seed = int(torch.randint(0, 2**62, (1,), generator=generator))
        cuda_devices = [image.device.index or 0] if image.device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda_devices):
            torch.manual_seed(seed)
            if self.cut_power == 1:
                batch = image.expand(self.num_cuts, -1, -1, -1)
            else:
                batch = self._powered_crops(image)
            return self.augment(batch).clamp(0, 1)

    def _powered_crops(self, image: torch.Tensor) -> torch.Tensor:
        """Square-ish crops whose side is min + (max - min) * u ** cut_power: a power above 1 favours
        small crops (details), below 1 large ones (pixray's cut_pow). Draws from the forked global RNG."""
        height, width = image.shape[-2:]
        longest = min(height, width)
        shortest = max(1, round(longest * self.min_area ** 0.5))
        crops = []
        for u in torch.rand(self.num_cuts).tolist():
            side = int(shortest + (longest - shortest) * u ** self.cut_power)
            top = int(torch.randint(0, height - side + 1, ()))
            left = int(torch.randint(0, width - side + 1, ()))
            crop = image[..., top:top + side, left:left + side]
            crops.append(F.interpolate(crop, size=(self.cut_size, self.cut_size), mode="bilinear",
                                       align_corners=False, antialias=True))
        return torch.cat(crops)
