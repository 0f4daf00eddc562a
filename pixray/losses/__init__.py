"""Custom losses, selected with custom_loss="name[:weight],..." (pixray's syntax)."""

from __future__ import annotations

import math

from ..errors import SettingsError
from .base import Loss, LossContext, neighbour_differences
from .dark_parts import DarkPartsLoss
from .edge import EdgeLoss
from .pale_outline import PaleOutlineLoss
from .palette import PaletteLoss
from .paper import PaperLoss
from .saturation import SaturationLoss
from .smoothness import SmoothnessLoss
from .style import StyleLoss
from .symmetry import SymmetryLoss
from .trace import TraceLoss

LOSSES: dict[str, type[Loss]] = {cls.name: cls for cls in (PaletteLoss, SaturationLoss, SymmetryLoss, SmoothnessLoss,
                                                            EdgeLoss, PaperLoss, StyleLoss, TraceLoss,
                                                            PaleOutlineLoss, DarkPartsLoss)}


# pixray losses that need weights this project cannot ship or download
UNAVAILABLE = {
    "aesthetic": "pixray's aesthetic loss needs an aesthetic predictor trained on CLIP embeddings (AVA/LAION "
                 "weights), which is not available here",
    "resmem": "pixray's resmem loss needs the ResMem memorability network and its weights, not available here",
    "blip": "pixray's BLIP loss needs the BLIP model and its weights, not available here",
}


def parse_custom_loss(entry: str, known: dict[str, type[Loss]] | None = None) -> tuple[str, float]:
    """'symmetry:0.5' → ('symmetry', 0.5); the weight defaults to 1. `known`: the losses to choose from
    (default LOSSES; pixray.add_custom_loss adds to them)."""
    known = LOSSES if known is None else known
    name, _, weight = entry.partition(":")
    weight = weight.partition(":")[0]  # pixray's 'name:weight:stop': a loss has no stop
    name = name.strip().lower()
    if name in UNAVAILABLE and name not in known:
        raise SettingsError(f"setting 'custom_loss': {name!r}: {UNAVAILABLE[name]}; allowed: {', '.join(known)}")
    if name not in known:
        raise SettingsError(f"setting 'custom_loss': {name!r} is not one of {', '.join(known)}")
    try:
        value = float(weight) if weight.strip() else 1.0
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise SettingsError(f"setting 'custom_loss': weight {weight!r} of {name!r} is not a finite number")
    return name, value


def build_losses(settings, known: dict[str, type[Loss]] | None = None) -> list[Loss]:
    known = LOSSES if known is None else known
    return [known[name](settings, weight) for name, weight in
            (parse_custom_loss(entry, known) for entry in settings.custom_loss)]


__all__ = ["LOSSES", "Loss", "LossContext", "build_losses", "neighbour_differences", "parse_custom_loss"]
