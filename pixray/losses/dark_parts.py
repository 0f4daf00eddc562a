"""Inks a coloured thing's dark parts: a frog's pupils, a cat's eyes, a burger's patty."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .pale_outline import PaleOutlineLoss
from .trace import gaussian_blur


class DarkPartsLoss(PaleOutlineLoss):
    """Ink (dark in every channel) where the emoji the embedded guide retrieves for the prompts is dark
    (guide/bank.py: dark_parts_target), for a coloured thing (a pale one has pale_outline). One-sided: a
    cell the emoji has dark must be dark, any other cell may be what the guide makes it, so the thing's
    colours are left alone. Steered towards the guide's view of the picture alone, the pixel drawer
    painted a frog's green and yellow but not its eyes, a burger's buns but not its patty."""

    name = "dark_parts"
    blurs = (0.0, 1.0)

    @staticmethod
    def retrieved_target(*args):
        from ..guide.bank import dark_parts_target

        return dark_parts_target(*args)

    def compare(self, ink: torch.Tensor) -> torch.Tensor:
        return sum((target * F.relu(target - gaussian_blur(ink, sigma)).square()).sum() / target.square().sum()
                   for sigma, target in zip(self.blurs, self._lines)) / len(self.blurs)
