"""Any drawer through a pixel grid: its picture is averaged into cells and shown with nearest
neighbour, so vector and VQGAN drawers make pixel art too (and get a native sprite)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from pixray.images import tensor_to_pil

from .base import Drawer, DrawerOutput


class PixelGrid(Drawer):
    def __init__(self, inner: Drawer, settings):
        super().__init__(settings, inner.device, inner.generator)
        self.inner = inner
        self.supports_reapply = inner.supports_reapply
        self.cells_w, self.cells_h = settings.pixel_size
        self.width, self.height = settings.size

    def init_from_image(self, image):
        self.inner.init_from_image(image)

    def param_groups(self):
        return self.inner.param_groups()

    def reapply(self, image):
        self.inner.reapply(image)

    def clamp(self):
        self.inner.clamp()

    def cells(self) -> torch.Tensor:
        return F.adaptive_avg_pool2d(self.inner.synth(), (self.cells_h, self.cells_w))

    def synth(self):
        return F.interpolate(self.cells(), size=(self.height, self.width), mode="nearest-exact")

    def export(self):
        with torch.no_grad():
            cells = self.cells()
            image = F.interpolate(cells, size=(self.height, self.width), mode="nearest-exact")
            return DrawerOutput(image=tensor_to_pil(image), sprite=tensor_to_pil(cells),
                                files=self.inner.export().files)
