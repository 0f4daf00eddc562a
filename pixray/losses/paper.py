from .base import Loss, LossContext


class PaperLoss(Loss):
    """Mean squared distance to white paper: where the prompt asks for nothing, cells stay blank.
    (Adam moves every cell at its learning rate however small its gradient, so without a pull
    like this the background fills with whatever colours the perceptor tolerates.)"""

    name = "paper"

    def compute(self, ctx: LossContext):
        return (1 - ctx.image).square().mean()
