from .base import Loss, LossContext


class PaletteLoss(Loss):
    """Distance of each pixel to its nearest palette colour, annealed from 0 to full weight over the
    run: colours roam freely at first and settle onto the palette by the end."""

    name = "palette"

    def compute(self, ctx: LossContext):
        if ctx.palette is None:
            return ctx.image.new_zeros(())
        pixels = ctx.image[0].flatten(1).T                       # (HW,3)
        nearest = (pixels[:, None, :] - ctx.palette[None]).square().sum(-1).min(1).values
        ramp = (ctx.iteration + 1) / max(1, ctx.iterations)
        return ramp * nearest.add(1e-8).sqrt().mean()
