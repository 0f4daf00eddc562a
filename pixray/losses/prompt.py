"""The spherical-distance loss of image embeddings against one prompt's embedding (pixray's)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def spherical_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Squared great-circle distance between unit-normalised rows of a (N,D) and b (M,D) → (N,M)."""
    a = F.normalize(a, dim=-1)
    b = F.normalize(b, dim=-1)
    chord = (a[:, None, :] - b[None, :, :]).norm(dim=-1)
    return (chord / 2).clamp(max=1).arcsin().pow(2).mul(2)


class PromptLoss(torch.nn.Module):
    """Loss of image embeddings against one target embedding.

    weight > 0 pulls towards the target, weight < 0 pushes away; once the distance falls below
    `stop`, that cutout gives no more gradient (pixray's stop)."""

    def __init__(self, embedding: torch.Tensor, weight: float = 1.0, stop: float = -math.inf):
        super().__init__()
        self.register_buffer("embedding", F.normalize(embedding.detach().float().reshape(1, -1), dim=-1))
        self.weight = float(weight)
        self.stop = float(stop)

    def forward(self, image_embeddings: torch.Tensor) -> torch.Tensor:
        dists = spherical_distance(image_embeddings.float(), self.embedding).squeeze(1)
        dists = torch.where(dists > self.stop, dists, dists.detach())
        return self.weight * dists.mean()
