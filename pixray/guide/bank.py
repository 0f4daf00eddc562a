"""The sprite bank: every training emoji as a latent of the sprite prior, with its main caption and
what the guide makes of both. The sprite drawer starts from the bank entry that best matches the
prompt, so optimisation begins at a recognisable sprite instead of noise.

The guide's embeddings of the bank are computed when the prior is built (decoding ~3,000 sprites
takes seconds on a CPU) and stored with a fingerprint of the guide file; if the guide is rebuilt
later, they are recomputed at run time until the prior's bank is refreshed
(`python -m pixray.guide.prior --bank-only`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
import torch.nn.functional as F

from .model import GuideModel
from .prior import SpritePrior

PAPER = 1.0  # opaque sprites sit on white, like the emoji the prior learned from


def on_paper(rgba: torch.Tensor) -> torch.Tensor:
    return rgba[:, :3] * rgba[:, 3:] + PAPER * (1 - rgba[:, 3:])


def fingerprint(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


@torch.no_grad()
def guide_view(prior: SpritePrior, guide: GuideModel, latents: torch.Tensor, captions: list[str]) -> dict:
    """The guide's unit embeddings of every bank sprite (decoded, on paper) and of its caption."""
    device = next(prior.parameters()).device
    pictures = torch.cat([on_paper(prior.decode(chunk.float().to(device))).cpu() for chunk in latents.split(256)])
    pictures = F.interpolate(pictures, size=(guide.config.image_size,) * 2, mode="area")
    return {"images": guide.encode_image(pictures).half(), "texts": guide.encode_text(captions).half()}


def build(prior: SpritePrior, latents: torch.Tensor, captions: list[str], guide_path: Path) -> dict:
    guide = GuideModel.from_file(torch.load(guide_path, weights_only=True))
    return {"latents": latents.half(), "captions": captions, "guide": fingerprint(guide_path),
            **guide_view(prior, guide, latents, captions)}


@torch.no_grad()
def closest(bank: dict, prior: SpritePrior, guide_path: Path, prompts: list[str]) -> torch.Tensor:
    """The latent whose caption and picture together match the prompts best, by the guide."""
    guide = GuideModel.from_file(torch.load(guide_path, weights_only=True))
    view = bank if bank.get("guide") == fingerprint(guide_path) else guide_view(
        prior, guide, bank["latents"], bank["captions"])
    query = F.normalize(guide.encode_text(prompts).mean(0), dim=0)
    score = view["texts"].float() @ query + view["images"].float() @ query
    return bank["latents"][int(score.argmax())].float()[None]
