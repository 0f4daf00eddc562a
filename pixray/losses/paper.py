from .base import Loss, LossContext


class PaperLoss(Loss):
    """Mean squared distance to blank paper: where the prompt asks for nothing, cells stay blank.
    (Adam moves every cell at its learning rate however small its gradient, so without a pull
    like this the background fills with whatever colours the perceptor tolerates.) Blank is white,
    or for a transparent picture clear: pulled towards white, a transparent sprite kept white paper
    around the thing and cut the thing itself out of it as a clear hole (MODEL_CARD.md)."""

    name = "paper"

    def compute(self, ctx: LossContext):
        if ctx.alpha is not None:
            return ctx.alpha.square().mean()
        return (1 - ctx.image).square().mean()
