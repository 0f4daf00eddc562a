"""Inks a coloured thing's dark parts: a frog's pupils, a cat's eyes, a burger's patty."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .pale_outline import PaleOutlineLoss
from .trace import gaussian_blur

BLURS = (0.0, 1.0)


class DarkPartsLoss(PaleOutlineLoss):
    """Ink (dark in every channel) where the emoji the embedded guide retrieves for the prompts is dark
    (guide/bank.py: dark_parts_target), for a coloured thing (a pale one has pale_outline). One-sided: a
    cell the emoji has dark must be dark, any other cell may be what the guide makes it, so the thing's
    colours are left alone. Steered towards the guide's view of the picture alone, the pixel drawer
    painted a frog's green and yellow but not its eyes, a burger's buns but not its patty."""

    name = "dark_parts"

    def _build(self, device: torch.device, init_image: torch.Tensor | None) -> list[torch.Tensor]:
        from ..guide.bank import dark_parts_target, load_sprite_bank
        from ..perceptors import GUIDE_WEIGHTS
        from ..prompts import wanted_texts

        texts = wanted_texts(self.settings.prompts)
        if init_image is not None or not texts:
            return []
        prior, bank, guide = load_sprite_bank(GUIDE_WEIGHTS, "custom_loss 'dark_parts'")
        dark = dark_parts_target(bank, prior, GUIDE_WEIGHTS, guide, texts)
        if dark is None or not dark.any():
            return []
        dark = torch.from_numpy(dark).float()[None, None].to(device)
        return [gaussian_blur(dark, sigma) for sigma in BLURS]

    def compare(self, ink: torch.Tensor) -> torch.Tensor:
        return sum((target * F.relu(target - gaussian_blur(ink, sigma)).square()).sum() / target.square().sum()
                   for sigma, target in zip(BLURS, self._lines)) / len(BLURS)
