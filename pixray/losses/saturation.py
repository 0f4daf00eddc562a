from .base import Loss, LossContext


class SaturationLoss(Loss):
    """Mean chroma (max - min channel): a positive weight calms colours, a negative one makes them pop."""

    name = "saturation"

    def compute(self, ctx: LossContext):
        return (ctx.image.amax(1) - ctx.image.amin(1)).mean()
