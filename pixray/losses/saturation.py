from .base import Loss, LossContext


class SaturationLoss(Loss):
    """Minus the mean chroma (max - min channel): a positive weight makes colours pop, a negative one
    calms them (pixray's sign)."""

    name = "saturation"

    def compute(self, ctx: LossContext):
        return -(ctx.image.amax(1) - ctx.image.amin(1)).mean()
