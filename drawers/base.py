"""The drawer protocol: a drawer owns differentiable parameters and renders them to an image."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import torch
from PIL import Image



@dataclass
class DrawerOutput:
    """What a drawer hands to the output writer at the end of a run."""

    image: Image.Image                      # full output size
    sprite: Image.Image | None = None       # native resolution (one pixel per cell), if any
    files: dict[str, bytes] = field(default_factory=dict)  # extra files by name, e.g. an SVG
    # For each image pixel, the flat index of its sprite pixel; None means a nearest-neighbour upscale.
    cell_map: np.ndarray | None = None


class Drawer(ABC):
    """Subclass this, then list the class in drawers/__init__.py or the `pixray.drawers` entry points."""

    default_learning_rate: ClassVar[float] = 0.1
    supports_hard_palette: ClassVar[bool] = False   # palette_mode="hard"
    supports_transparency: ClassVar[bool] = False   # transparent=True (synth returns RGBA)
    native_grid: ClassVar[bool] = False             # draws cells itself; otherwise pixel_size adds a PixelGrid
    default_pixel_size: ClassVar[tuple[int, int] | None] = None  # a fixed grid (the output size follows it)
    supports_reapply: ClassVar[bool] = True         # reapply() keeps the drawing (overlay_image)
    shares_models: ClassVar[bool] = False           # __init__ takes models=: weights load once per process
    setting_defaults: ClassVar[dict] = {}           # this drawer's own defaults of shared settings (a user's win)

    @classmethod
    def resolve_settings(cls, settings) -> None:
        """Fill this drawer's defaults into `settings` and validate them (before any model loads)."""

    def __init__(self, settings, device: torch.device, generator: torch.Generator, models=None):
        self.settings = settings
        self.device = device
        self.generator = generator  # every random draw goes through it (determinism)
        self.models = models  # the session's ModelCache (drawers with shares_models), or None

    def load_model(self, key: tuple, loader):
        """Weights that never change (a decoder, a prior): loaded once per process when the session
        shares its model cache (a batch worker runs many jobs), else loaded here."""
        return self.models.load((type(self).__name__, *key, str(self.device)), loader) if self.models else loader()

    @abstractmethod
    def init_from_image(self, image: torch.Tensor | None) -> None:
        """Start from `image` (1,3,H,W in [0,1] at the output size), or from noise when None."""

    @abstractmethod
    def param_groups(self) -> list[dict]:
        """Optimiser parameter groups; a group may carry its own 'lr'."""

    @abstractmethod
    def synth(self) -> torch.Tensor:
        """Render (1,3,H,W) in [0,1], differentiable with respect to the parameters."""

    def clamp(self) -> None:
        """Project parameters back into their valid range after an optimiser step."""

    def latent(self) -> torch.Tensor:
        """Every parameter as one flat vector (pixray's z, which init_weight anchors)."""
        return torch.cat([p.flatten() for group in self.param_groups() for p in group["params"]])

    def reapply(self, image: torch.Tensor) -> None:
        """Redraw the parameters from `image` entirely (pixray's overlay_image), without noise."""
        keep = self.settings.init_image_alpha
        self.settings.init_image_alpha = 255
        try:
            self.init_from_image(image)
        finally:
            self.settings.init_image_alpha = keep

    @abstractmethod
    def export(self) -> DrawerOutput:
        """The final picture(s), from the current parameters."""

