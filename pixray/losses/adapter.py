"""A loss class written for pixray 1.9 (LossInterface: `get_loss(cur_cutouts, out, args, globals,
lossGlobals)`) used as one of ours, for pixray.add_custom_loss."""

from __future__ import annotations

from types import SimpleNamespace

import torch

from .base import Loss, LossContext


def adapt_pixray_loss(name: str, pixray_class: type) -> type[Loss]:
    """Our Loss subclass calling `pixray_class`. It gets the picture as `out`, the same picture as its
    only cutout batch (we do not share our cutouts), the settings as `args` and pixray's cur_iteration."""

    class PixrayLoss(Loss):
        def __init__(self, settings, weight: float = 1.0):
            super().__init__(settings, weight)
            try:
                self.inner = pixray_class(device=torch.device("cpu"))
            except TypeError:
                self.inner = pixray_class()
            self.args = SimpleNamespace(**settings.to_dict())
            if hasattr(self.inner, "parse_settings"):
                self.args = self.inner.parse_settings(self.args) or self.args
            self.globals: dict = {}

        def compute(self, ctx: LossContext) -> torch.Tensor:
            found = self.inner.get_loss({ctx.image.shape[-1]: ctx.image}, ctx.image, self.args,
                                        globals={"cur_iteration": ctx.iteration}, lossGlobals=self.globals)
            parts = found if isinstance(found, (list, tuple)) else [found]
            return torch.stack([torch.as_tensor(p, device=ctx.image.device).float().reshape(()) for p in parts]).sum()

    PixrayLoss.name = name
    PixrayLoss.__qualname__ = PixrayLoss.__name__ = f"PixrayLoss[{pixray_class.__name__}]"
    return PixrayLoss
