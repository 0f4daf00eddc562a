import torch

from .base import Loss, LossContext


@torch.no_grad()
def nearest_palette_index(pixels: torch.Tensor, palette: torch.Tensor) -> torch.Tensor:
    """(N,3) pixels → index of each one's nearest (K,3) palette colour. Exact differences (cdist's
    matmul path puts equal colours apart), block by block so memory stays small for any picture."""
    step = max(1, (1 << 21) // (3 * len(palette)))
    return torch.cat([(chunk[:, None] - palette[None]).square().sum(-1).argmin(1) for chunk in pixels.split(step)])


class PaletteLoss(Loss):
    """Distance of each pixel to its nearest palette colour, annealed from 0 to full weight over the
    run: colours roam freely at first and settle onto the palette by the end."""

    name = "palette"

    def compute(self, ctx: LossContext):
        if ctx.palette is None:
            return ctx.image.new_zeros(())
        pixels = ctx.image[0].flatten(1).T                       # (HW,3)
        index = nearest_palette_index(pixels, ctx.palette)      # which colour is nearest needs no gradient
        nearest = (pixels - ctx.palette[index]).square().sum(-1)
        ramp = (ctx.iteration + 1) / max(1, ctx.iterations)
        return ramp * nearest.add(1e-8).sqrt().mean()
