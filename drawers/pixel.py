"""PixelDraw: a grid of cells, one colour each, upscaled with nearest neighbour to the output size.

Cell colours are free RGB values in [0,1], or, with palette_mode="hard", logits over the palette
whose forward pass is the one-hot choice (every cell is a palette colour at every step) and whose
backward pass is the softmax's (straight-through estimator). With `transparent`, each cell also has
an alpha value.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from pixray.errors import SettingsError
from pixray.images import tensor_to_pil
from pixray.palettes import load_palette

from .base import Drawer, DrawerOutput

# Grid width per aspect (pixray's 80x45, 40x40, 40x50); the height follows the output's shape.
DEFAULT_GRID_WIDTH = {"widescreen": 80, "square": 40, "portrait": 40}
# Start logits at -LOGIT_SCALE * squared RGB distance: the nearest colour wins, by a margin Adam can move.
LOGIT_SCALE = 10.0


class PixelDrawer(Drawer):
    default_learning_rate = 0.1
    supports_hard_palette = True
    supports_transparency = True
    native_grid = True

    @classmethod
    def resolve_settings(cls, settings) -> None:
        width, height = settings.size
        if settings.pixel_size is None:
            cells_w = max(1, round(DEFAULT_GRID_WIDTH[settings.aspect] / settings.pixel_scale))
            settings.pixel_size = (cells_w, max(1, round(cells_w * height / width)))
        cells_w, cells_h = settings.pixel_size
        if not (1 <= cells_w <= width and 1 <= cells_h <= height):
            raise SettingsError(f"setting 'pixel_size': {cells_w}x{cells_h} cells must be between 1x1 and the "
                                f"output size {width}x{height}")

    def __init__(self, settings, device, generator):
        super().__init__(settings, device, generator)
        self.cells_w, self.cells_h = settings.pixel_size
        self.width, self.height = settings.size
        hard = settings.palette is not None and settings.palette_mode == "hard"
        self.palette = load_palette(settings.palette).tensor(device) if hard else None
        depth = len(self.palette) if hard else 3
        self.cells = torch.zeros(1, depth, self.cells_h, self.cells_w, device=device, requires_grad=True)
        self.alpha = (torch.ones(1, 1, self.cells_h, self.cells_w, device=device, requires_grad=True)
                      if settings.transparent else None)

    def _noise(self) -> torch.Tensor:
        shape = (1, 3, self.cells_h, self.cells_w)
        kind = self.settings.init_noise
        if kind == "pixels":
            return torch.rand(shape, generator=self.generator)
        if kind == "gradient":
            # Blend four random corner colours, then add a little per-cell noise to break symmetry.
            corners = torch.rand(1, 3, 2, 2, generator=self.generator)
            smooth = F.interpolate(corners, size=shape[2:], mode="bilinear", align_corners=True)
            return (smooth + 0.1 * (torch.rand(shape, generator=self.generator) - 0.5)).clamp(0, 1)
        return torch.full(shape, 0.5)

    def init_from_image(self, image):
        start = self._noise()
        if image is not None:
            cell_means = F.adaptive_avg_pool2d(image.float().cpu(), (self.cells_h, self.cells_w))
            alpha = self.settings.init_image_alpha / 255
            start = alpha * cell_means + (1 - alpha) * start
        with torch.no_grad():
            if self.palette is None:
                self.cells.copy_(start.to(self.device))
            else:
                distance = (start.to(self.device)[:, None] - self.palette[None, :, :, None, None]).square().sum(2)
                self.cells.copy_(-LOGIT_SCALE * distance)
            if self.alpha is not None:
                opaque = torch.ones(1, 1, self.cells_h, self.cells_w)
                self.alpha.copy_(opaque if image is not None else torch.rand(opaque.shape, generator=self.generator))

    def param_groups(self):
        params = [self.cells] + ([self.alpha] if self.alpha is not None else [])
        return [{"params": params, "lr": self.settings.learning_rate}]

    def cell_colors(self) -> torch.Tensor:
        """(1,3,h,w) RGB per cell; in hard mode exactly palette colours (straight-through gradients)."""
        if self.palette is None:
            return self.cells
        soft = self.cells.softmax(1)
        hard = F.one_hot(soft.argmax(1), len(self.palette)).permute(0, 3, 1, 2).to(soft.dtype)
        choice = hard + soft - soft.detach()
        return torch.einsum("bkhw,kc->bchw", choice, self.palette)

    def cell_pixels(self) -> torch.Tensor:
        colors = self.cell_colors()
        return colors if self.alpha is None else torch.cat([colors, self.alpha], 1)

    def synth(self):
        return F.interpolate(self.cell_pixels(), size=(self.height, self.width), mode="nearest-exact")

    def clamp(self):
        with torch.no_grad():
            if self.palette is None:
                self.cells.clamp_(0, 1)
            if self.alpha is not None:
                self.alpha.clamp_(0, 1)

    def export(self):
        with torch.no_grad():
            return DrawerOutput(image=tensor_to_pil(self.synth()), sprite=tensor_to_pil(self.cell_pixels()))
