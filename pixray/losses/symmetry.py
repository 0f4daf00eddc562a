from .base import Loss, LossContext


class SymmetryLoss(Loss):
    """Difference between the picture and its mirror image (left-right): favours symmetric sprites."""

    name = "symmetry"

    def compute(self, ctx: LossContext):
        return (ctx.image - ctx.image.flip(3)).abs().mean()
