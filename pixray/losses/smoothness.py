from .base import Loss, LossContext, neighbour_differences


class SmoothnessLoss(Loss):
    """Total variation: fewer, larger areas of one colour (wraps around when tiling)."""

    name = "smoothness"

    def compute(self, ctx: LossContext):
        dx, dy = neighbour_differences(ctx.image, ctx.tile)
        return dx.mean() + dy.mean()
