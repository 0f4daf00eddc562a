import torch

from .base import Loss, LossContext, neighbour_differences


class SmoothnessLoss(Loss):
    """Total variation: fewer, larger areas of one colour (wraps around when tiling).
    smoothness_type (pixray's): default counts each neighbour difference as it is; clipped caps each at
    0.5, so a hard edge costs no more than a soft one and only noise is smoothed away; log grows slowly."""

    name = "smoothness"

    def compute(self, ctx: LossContext):
        dx, dy = neighbour_differences(ctx.image, ctx.tile)
        kind = self.settings.smoothness_type
        if kind == "clipped":
            dx, dy = dx.clamp(max=0.5), dy.clamp(max=0.5)
        elif kind == "log":
            dx, dy = torch.log1p(dx), torch.log1p(dy)
        return dx.mean() + dy.mean()
