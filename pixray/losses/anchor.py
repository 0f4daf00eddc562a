"""pixray's init anchoring: keep the drawer's parameters (its "z") near where init_image put them.
init_weight is the spherical distance, init_weight_dist the squared one, init_weight_cos the cosine;
init_weight_pix compares the pictures instead."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def spherical_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """2·asin(|â − b̂| / 2)², the great-circle distance of the two directions squared (CLIP's prompt loss)."""
    # the small constant keeps the gradient finite where the two agree (the first step)
    chord = ((F.normalize(a.flatten(), dim=0) - F.normalize(b.flatten(), dim=0)).square().sum() + 1e-12).sqrt()
    return (chord / 2).clamp(max=1).asin().square() * 2


def anchor_losses(settings, latent: torch.Tensor, start: torch.Tensor, picture: torch.Tensor,
                  init_picture: torch.Tensor) -> dict[str, torch.Tensor]:
    parts = {}
    if settings.init_weight:
        parts["init_image anchor"] = settings.init_weight * spherical_distance(latent, start)
    if settings.init_weight_dist:
        parts["init_image anchor dist"] = settings.init_weight_dist * F.mse_loss(latent, start) / 2
    if settings.init_weight_cos:
        cosine = F.cosine_similarity(latent.flatten(), start.flatten(), dim=0)
        parts["init_image anchor cos"] = settings.init_weight_cos * (1 - cosine)
    if settings.init_weight_pix:
        distance = F.mse_loss if settings.init_loss == "mse" else F.l1_loss
        parts["init_image pixels"] = settings.init_weight_pix * distance(picture, init_picture) / 2
    return parts
