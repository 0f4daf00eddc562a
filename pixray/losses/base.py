"""The custom-loss interface: one class per file, called once per step with a LossContext."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch


@dataclass
class LossContext:
    image: torch.Tensor              # (1,3,H,W) in [0,1], the drawer's picture this step (RGB)
    iteration: int                   # the step being taken, from 0
    iterations: int
    palette: torch.Tensor | None     # (K,3) in [0,1] when a palette is set
    tile: bool = False               # the picture wraps around: neighbours cross the borders
    alpha: torch.Tensor | None = None  # (1,1,H,W) opacity in [0,1] when the picture is transparent
    init_image: torch.Tensor | None = None  # (1,3,H,W) init_image at the picture's size, when given


class Loss:
    """Subclass with a `name` and `compute`; the weight multiplies whatever `compute` returns."""

    name: ClassVar[str]

    def __init__(self, settings, weight: float = 1.0):
        self.settings = settings
        self.weight = weight

    def compute(self, ctx: LossContext) -> torch.Tensor:
        raise NotImplementedError

    def __call__(self, ctx: LossContext) -> torch.Tensor:
        return self.weight * self.compute(ctx)


def neighbour_differences(image: torch.Tensor, wrap: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Absolute differences to the right and lower neighbours (across the borders when `wrap`)."""
    if wrap:
        return ((image - image.roll(-1, dims=3)).abs(), (image - image.roll(-1, dims=2)).abs())
    return ((image[..., :, 1:] - image[..., :, :-1]).abs(), (image[..., 1:, :] - image[..., :-1, :]).abs())
