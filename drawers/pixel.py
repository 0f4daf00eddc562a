"""PixelDraw: a grid of cells, one colour each, upscaled with nearest neighbour to the output size."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from pixray.errors import SettingsError
from pixray.images import tensor_to_pil

from .base import Drawer, DrawerOutput

# Grid width per aspect (pixray's 80x45, 40x40, 40x50); the height follows the output's shape.
DEFAULT_GRID_WIDTH = {"widescreen": 80, "square": 40, "portrait": 40}


class PixelDrawer(Drawer):
    default_learning_rate = 0.1

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
        self.cells = torch.zeros(1, 3, self.cells_h, self.cells_w, device=device, requires_grad=True)

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
            self.cells.copy_(start.to(self.device))

    def param_groups(self):
        return [{"params": [self.cells], "lr": self.settings.learning_rate}]

    def synth(self):
        return F.interpolate(self.cells, size=(self.height, self.width), mode="nearest-exact")

    def clamp(self):
        with torch.no_grad():
            self.cells.clamp_(0, 1)

    def export(self):
        with torch.no_grad():
            return DrawerOutput(image=tensor_to_pil(self.synth()), sprite=tensor_to_pil(self.cells))
