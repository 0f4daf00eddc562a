import torch

from ..palettes import load_palette
from ..quantize import LINEAR_TO_LMS, LMS_TO_OKLAB, resolve_space, space_for
from .base import Loss, LossContext


def _oklab(rgb: torch.Tensor) -> torch.Tensor:
    """(N,3) sRGB in [0,1] → OKLab, as pixray.quantize.srgb_to_oklab (in float32, which every device has:
    the choice can differ from the export's only between colours all but equally near)."""
    rgb = rgb.float().clamp(0, 1)
    linear = torch.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    to_lms, to_lab = (torch.as_tensor(m, dtype=rgb.dtype, device=rgb.device) for m in (LINEAR_TO_LMS, LMS_TO_OKLAB))
    lms = linear @ to_lms
    return (lms.sign() * lms.abs().pow(1 / 3)) @ to_lab


def loop_space(settings) -> str:
    """The resolved palette_space in which the loop picks a pixel's palette colour, as the export does:
    for the user's palette (auto: lightness for a ramp), else oklab (colours fitted to the picture).
    Decided once per run, not per step."""
    space = space_for(settings.palette_space, settings.palette is not None)
    return resolve_space(space, load_palette(settings.palette).array()) if settings.palette is not None else space


def _in_space(pixels: torch.Tensor, palette: torch.Tensor, space: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixels and palette in the coordinates the export compares them in (see pixray.quantize.quantize)."""
    if space == "rgb":
        return pixels, palette
    pixels, palette = _oklab(pixels), _oklab(palette)
    if space == "lightness":
        keep = torch.tensor([1.0, 0.0, 0.0], dtype=pixels.dtype, device=pixels.device)
        pixels, palette = pixels * keep, palette * keep
        low, high = pixels[:, 0].min(), pixels[:, 0].max()
        if high - low > 1e-6:  # the picture's lightest to darkest stretched onto the ramp, as at the export
            top, bottom = palette[:, 0].max(), palette[:, 0].min()
            pixels = pixels.clone()
            pixels[:, 0] = (pixels[:, 0] - low) / (high - low) * (top - bottom) + bottom
    return pixels, palette


@torch.no_grad()
def nearest_palette_index(pixels: torch.Tensor, palette: torch.Tensor, space: str = "rgb") -> torch.Tensor:
    """(N,3) pixels → index of each one's nearest (K,3) palette colour, compared in `space` (a resolved
    palette_space: rgb, oklab or lightness; see loop_space). Exact differences (cdist's matmul path puts equal colours apart), block by block so
    memory stays small for any picture."""
    pixels, palette = _in_space(pixels, palette, space)
    step = max(1, (1 << 21) // (3 * len(palette)))
    return torch.cat([(chunk[:, None] - palette[None]).square().sum(-1).argmin(1) for chunk in pixels.split(step)])


class PaletteLoss(Loss):
    """Distance of each pixel to its nearest palette colour, annealed from 0 to full weight over the
    run: colours roam freely at first and settle onto the palette by the end."""

    name = "palette"

    def __init__(self, settings, weight: float = 1.0):
        super().__init__(settings, weight)
        self.space = loop_space(settings)

    def compute(self, ctx: LossContext):
        if ctx.palette is None:
            return ctx.image.new_zeros(())
        pixels = ctx.image[0].flatten(1).T                       # (HW,3)
        index = nearest_palette_index(pixels, ctx.palette, self.space)  # which colour is nearest needs no gradient
        nearest = (pixels - ctx.palette[index]).square().sum(-1)
        ramp = (ctx.iteration + 1) / max(1, ctx.iterations)
        return ramp * nearest.add(1e-8).sqrt().mean()
