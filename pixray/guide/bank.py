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

from ..images import over
from .model import GuideModel, words
from .prior import SpritePrior

PAPER = 1.0  # opaque sprites sit on white, like the emoji the prior learned from
# Names decide *what* is drawn; the picture match, mostly colour, only picks among near-equal names
# (which style's drawing, or "apple" vs "green apple"). With equal weights "a green frog" chose
# a green circle.
PICTURE_WEIGHT = 0.1


def on_paper(rgba: torch.Tensor) -> torch.Tensor:
    return over(rgba, PAPER)


def fingerprint(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


@torch.no_grad()
def guide_view(prior: SpritePrior, guide: GuideModel, bank: dict) -> dict:
    """The guide's unit embeddings of every bank sprite (decoded, on paper) and of every name."""
    device = next(prior.parameters()).device
    pictures = torch.cat([on_paper(prior.decode(chunk.float().to(device))).cpu()
                          for chunk in bank["latents"].split(256)])
    pictures = F.interpolate(pictures, size=(guide.config.image_size,) * 2, mode="area")
    return {"images": guide.encode_image(pictures).half(), "texts": guide.encode_text(bank["names"]).half()}


def build(prior: SpritePrior, latents: torch.Tensor, captions: list[list[str]], codes: list[str],
          guide_path: Path) -> dict:
    """Bank entries are sprites (one per emoji and style); names belong to the emoji, all its
    captions (label, other names, tags), stored once whatever the number of styles."""
    concept = {code: i for i, code in enumerate(dict.fromkeys(codes))}
    first = {code: options for code, options in reversed(list(zip(codes, captions)))}
    names = [(concept[code], name) for code in concept for name in first[code]]
    bank = {"latents": latents.half(), "captions": [options[0] for options in captions],
            "concepts": torch.tensor([concept[c] for c in codes]), "names": [name for _, name in names],
            "name_concepts": torch.tensor([i for i, _ in names]), "guide": fingerprint(guide_path)}
    guide = GuideModel.from_file(torch.load(guide_path, weights_only=True))
    return {**bank, **guide_view(prior, guide, bank)}


@torch.no_grad()
def best_entry(bank: dict, prior: SpritePrior, guide_path: Path, prompts: list[str],
               guide: GuideModel | None = None) -> tuple[int, list[str]]:
    """The entry whose emoji has the best-matching name, its picture breaking near ties; and the prompt
    words the guide has never seen (it can only guess at those from their letters). `guide`: the
    model in `guide_path`, when the caller has it loaded already."""
    if guide is None:
        guide = GuideModel.from_file(torch.load(guide_path, weights_only=True))
    view = bank if bank.get("guide") == fingerprint(guide_path) else guide_view(prior, guide, bank)
    query = F.normalize(guide.encode_text(prompts).mean(0), dim=0)
    by_name = torch.full((int(bank["concepts"].max()) + 1,), -2.0).scatter_reduce(
        0, bank["name_concepts"], view["texts"].float() @ query, "amax")
    entry = int((by_name[bank["concepts"]] + PICTURE_WEIGHT * view["images"].float() @ query).argmax())
    unknown = [w for text in prompts for w in words(text) if w not in guide.text.vocab]
    return entry, unknown


def closest(bank: dict, prior: SpritePrior, guide_path: Path, prompts: list[str]) -> torch.Tensor:
    return bank["latents"][best_entry(bank, prior, guide_path, prompts)[0]].float()[None]
