"""Prompt parsing ("text:weight:stop") and the spherical-distance loss against CLIP embeddings."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .errors import SettingsError

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:inf(?:inity)?|nan)"
_COLON = r"(?<!\\):"  # a colon written as '\:' is part of the text


@dataclass(frozen=True)
class ParsedPrompt:
    text: str
    weight: float = 1.0
    stop: float = -math.inf


def parse_prompt(prompt: str, setting: str = "prompts") -> ParsedPrompt:
    """Split 'text[:weight[:stop]]'. Only trailing numbers count as weight/stop, so text with colons
    ('note: red', 'C:/img.png', 'https://...') stays intact; 'ten past 10\\:30' keeps a literal colon
    before a number. Weights must be finite; a stop may be -inf (pixray's "never stop")."""
    match = re.fullmatch(rf"(?s)(.*?)(?:{_COLON}({_NUMBER}))?(?:{_COLON}({_NUMBER}))?", prompt.strip(),
                         flags=re.IGNORECASE)
    text, weight, stop = match.group(1).strip().replace("\\:", ":"), match.group(2), match.group(3)
    if not text:
        raise SettingsError(f"setting {setting!r}: {prompt!r} has no text before its weight")
    parsed = ParsedPrompt(text, float(weight) if weight else 1.0, float(stop) if stop else -math.inf)
    if not math.isfinite(parsed.weight) or math.isnan(parsed.stop) or parsed.stop == math.inf:
        raise SettingsError(f"setting {setting!r}: {prompt!r} has weight {parsed.weight} and stop {parsed.stop}; "
                            f"the weight must be a finite number and the stop finite or -inf")
    return parsed


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
