from .base import Loss, LossContext


class PaperLoss(Loss):
    """Mean distance to blank paper: where the prompt asks for nothing, cells stay blank.
    (Adam moves every cell at its learning rate however small its gradient, so without a pull
    like this the background fills with whatever colours the perceptor tolerates.) Blank is white,
    or for a transparent picture clear: pulled towards white, a transparent sprite kept white paper
    around the thing and cut the thing itself out of it as a clear hole (MODEL_CARD.md).

    Each pixel's distance from white, not its square: a squared pull fades near white, so cells the
    perceptor nudged a little settled as pastel halos and scraps around the thing; a pull of the same
    strength at every distance leaves them white unless the prompt asks for them."""

    name = "paper"

    def compute(self, ctx: LossContext):
        if ctx.alpha is not None:
            return ctx.alpha.square().mean()
        return (1 - ctx.image).square().sum(1).add(1e-6).sqrt().mean()
