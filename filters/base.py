"""The filter protocol: a differentiable picture → picture step before the cutouts, with an optional
loss of its own (pixray's FilterInterface returned the same pair)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import torch


class Filter(ABC):
    name: ClassVar[str]

    def __init__(self, settings, generator: torch.Generator):
        self.settings = settings
        self.generator = generator  # every random draw goes through it (determinism)

    @abstractmethod
    def __call__(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(1,C,H,W) → (what the cutouts see, this filter's loss or None)."""

    def _randint(self, high: int) -> int:
        return int(torch.randint(0, max(1, high), (1,), generator=self.generator))
