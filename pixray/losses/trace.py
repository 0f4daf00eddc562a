"""Keeps the picture's ink on lines: the init image's, or those of the embedded guide's own picture of the prompt."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .base import Loss, LossContext

# Blurs (in cells) at which ink and lines are compared: 0 puts ink in exactly the line's cells, the
# wider ones reach strokes a few cells away.
BLURS = (0.0, 1.0, 2.0)


def gaussian_blur(image: torch.Tensor, sigma: float) -> torch.Tensor:
    """(1,1,H,W) blurred by a separable Gaussian of `sigma` cells (edges repeated)."""
    if sigma == 0:
        return image
    reach = int(3 * sigma + 0.5)
    offsets = torch.arange(-reach, reach + 1, dtype=image.dtype, device=image.device)
    kernel = torch.exp(-offsets.square() / (2 * sigma ** 2))
    kernel = kernel / kernel.sum()
    image = F.conv2d(F.pad(image, (reach, reach, 0, 0), mode="replicate"), kernel.view(1, 1, 1, -1))
    return F.conv2d(F.pad(image, (0, 0, reach, reach), mode="replicate"), kernel.view(1, 1, -1, 1))


def blurred(lines, device: torch.device, blurs: tuple[float, ...] = BLURS) -> list[torch.Tensor]:
    """(rows, columns) bool lines → (1,1,rows,columns) at each of `blurs`."""
    lines = torch.from_numpy(lines).float()[None, None].to(device)
    return [gaussian_blur(lines, sigma) for sigma in blurs]


class TraceLoss(Loss):
    """The picture's darkness against lines, compared sharp and blurred; each relative to the lines' own
    energy and averaged, so a blank page scores 1. The lines: with an init image, its own (tracing.
    image_lines, where line_sketch's strokes start); else the outline (pixray/tracing.py) of the emoji the
    prompts retrieve (guide/bank.py), on the grid of the guide's sprites (32x32, as large as fits,
    centred). The embedded guide learned coloured emoji, not line art: steered by it alone, line_sketch's
    black strokes piled into ink blots, also when they started on an init image's lines (MODEL_CARD.md).
    Works with any drawer and perceptor."""

    name = "trace"

    def __init__(self, settings, weight: float = 1.0):
        super().__init__(settings, weight)
        self._lines: list[torch.Tensor] | None = None  # the lines at each blur, built at the first step

    def _target(self, init_image: torch.Tensor | None):
        """(rows, columns) bool lines, and what they are (for the warning when there are none)."""
        if init_image is not None:
            from ..tracing import image_lines

            return image_lines(init_image, self.settings.pixel_size, self.settings.max_stroke_width), "init_image"
        from ..guide.bank import load_sprite_bank, outline_target
        from ..perceptors import GUIDE_WEIGHTS
        from ..prompts import wanted_texts

        prior, bank, guide = load_sprite_bank(GUIDE_WEIGHTS, "custom_loss 'trace'")
        lines = outline_target(bank, prior, GUIDE_WEIGHTS, guide, wanted_texts(self.settings.prompts))
        return lines, "the guide's picture of the prompt"

    def _build(self, device: torch.device, init_image: torch.Tensor | None) -> list[torch.Tensor]:
        from ..errors import warn

        lines, source = self._target(init_image)
        if not lines.any():
            warn(f"custom_loss 'trace': {source} has no lines; the loss is left out")
            return []
        return blurred(lines, device)

    @staticmethod
    def ink(rgb: torch.Tensor) -> torch.Tensor:
        """(B,1,H,W): how dark each pixel is, any colour (line_sketch's ink is black anyway)."""
        return 1 - rgb.mean(1, keepdim=True)

    def compare(self, ink: torch.Tensor) -> torch.Tensor:
        """The (1,1,rows,columns) ink on the lines' grid against the lines at each blur."""
        return sum(F.mse_loss(gaussian_blur(ink, sigma), lines) / lines.square().mean().clamp_min(1e-6)
                   for sigma, lines in zip(BLURS, self._lines)) / len(BLURS)

    def compute(self, ctx: LossContext) -> torch.Tensor:
        from ..tracing import placement

        if self._lines is None:
            self._lines = self._build(ctx.image.device, ctx.init_image)
        if not self._lines:
            return ctx.image.new_zeros(())
        rows, columns = self._lines[0].shape[-2:]
        height, width = ctx.image.shape[-2:]
        cell, (left, top) = placement((width, height), (rows, columns))
        x, y, side_x, side_y = round(left), round(top), round(cell * columns), round(cell * rows)
        return self.compare(F.adaptive_avg_pool2d(self.ink(ctx.image[:, :3, y:y + side_y, x:x + side_x]),
                                                  (rows, columns)))
