"""Outlines a pale thing: on white paper a ghost, a cloud or a skull shows only by its outline."""

from __future__ import annotations

import torch

from .trace import BLURS, TraceLoss, blurred


class PaleOutlineLoss(TraceLoss):
    """The trace loss on the outline and the dark parts (a skull's eye holes) of the emoji the embedded
    guide retrieves for the prompts, only when that emoji, coloured as the prompts ask, is pale
    (guide/bank.py: pale_outline_target): white, grey, white and black. Its picture on white paper is
    mostly paper, and steered towards it the pixel, clipdraw and fft drawers painted a few specks (eyes, a
    mouth) where a pixel artist draws the outline (MODEL_CARD.md). Nothing for a coloured or a dark
    thing, which shows by itself, nor with an init image, where the picture starts from the user's; a
    default of those three drawers with the guide."""

    name = "pale_outline"
    blurs = BLURS

    @staticmethod
    def ink(rgb: torch.Tensor) -> torch.Tensor:
        """Dark in every channel: one dark outline, as a pixel artist draws it, not rims of whatever colour
        the guide pulls them to (green, red, blue with the trace loss's darkness)."""
        return 1 - rgb.amax(1, keepdim=True)

    @staticmethod
    def retrieved_target(*args):
        from ..guide.bank import pale_outline_target

        return pale_outline_target(*args)

    def _build(self, device: torch.device, init_image: torch.Tensor | None) -> list[torch.Tensor]:
        """retrieved_target (bank, prior, guide path, guide, prompts → bool cells or None) at each
        of the loss's blurs; none with an init image or without a text prompt."""
        from ..guide.bank import load_sprite_bank
        from ..perceptors import GUIDE_WEIGHTS
        from ..prompts import wanted_texts

        texts = wanted_texts(self.settings.prompts)
        if init_image is not None or not texts:
            return []
        prior, bank, guide = load_sprite_bank(GUIDE_WEIGHTS, f"custom_loss {self.name!r}")
        lines = self.retrieved_target(bank, prior, GUIDE_WEIGHTS, guide, texts)
        return [] if lines is None or not lines.any() else blurred(lines, device, self.blurs)
