import torch

from .base import Loss, LossContext


class PaletteLoss(Loss):
    """Distance of each pixel to its nearest palette colour, annealed from 0 to full weight over the
    run: colours roam freely at first and settle onto the palette by the end."""

    name = "palette"

    def compute(self, ctx: LossContext):
        if ctx.palette is None:
            return ctx.image.new_zeros(())
        pixels = ctx.image[0].flatten(1).T                       # (HW,3)
        with torch.no_grad():  # which colour is nearest needs no gradient; find it block by block
            step = max(1, (1 << 21) // (3 * len(ctx.palette)))
            index = torch.cat([(chunk[:, None] - ctx.palette[None]).square().sum(-1).argmin(1)
                               for chunk in pixels.split(step)])
        nearest = (pixels - ctx.palette[index]).square().sum(-1)
        ramp = (ctx.iteration + 1) / max(1, ctx.iterations)
        return ramp * nearest.add(1e-8).sqrt().mean()
