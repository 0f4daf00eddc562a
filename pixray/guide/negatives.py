"""The guide's own steered pictures as negatives: what the loop paints must not beat a real drawing.

Adversarial training (robust.py) bounds what a small change can do to the guide; the loop's changes
are not small: 100 steps from white paper paint whatever the guide likes most, and for a small guide
that is a canvas full of saturated patches it rates above the real emoji. So the fine-tune also keeps
one steered picture per emoji (a persistent buffer, as in contrastive-divergence training of energy
models, Du & Mordatch 2019; Grathwohl et al. 2020), steps it a few more times toward the emoji's caption
whenever the emoji is in the batch, and asks the guide to rank every real picture of a caption above
these: the loop's favourite patterns lose their score, and the next steps must look more like the thing.
"""

from __future__ import annotations

import torch

from .model import GuideModel
from .train import matches_win

STEP = 0.05     # per-pixel sign step of the steering (the loop's Adam moves cells up to 0.1 a step)
RESTART = 0.05  # chance that a visited picture starts again from paper


class SteeredBuffer:
    """One steered picture per concept, (N,3,size,size) in [0,1], starting on white paper."""

    def __init__(self, concepts: int, size: int, gen: torch.Generator):
        from ..cutouts import Cutouts
        from ..perceptors import EmbeddedPerceptor

        self.gen = gen
        self.pictures = self._paper(concepts, size)
        # each step sees one cutout of each picture, made as the loop makes them for the guide; the
        # cutouts draw from torch's global RNG, which the fine-tune seeds and saves
        self.views = Cutouts(size, 1, EmbeddedPerceptor.min_cut_area).augment

    def _paper(self, count: int, size: int) -> torch.Tensor:
        return (1 - 0.1 * torch.rand(count, 3, size, size, generator=self.gen)).clamp(0, 1)

    def steer(self, model: GuideModel, concepts: torch.Tensor, text: torch.Tensor, steps: int) -> torch.Tensor:
        """Step the pictures of `concepts` toward their unit text embeddings `text` (K,D); returns them."""
        device = text.device
        restart = torch.rand(len(concepts), generator=self.gen) < RESTART
        if restart.any():
            self.pictures[concepts[restart]] = self._paper(int(restart.sum()), self.pictures.shape[-1])
        pictures = self.pictures[concepts].to(device)
        for _ in range(steps):
            pictures.requires_grad_(True)
            score = (model.encode_image(self.views(pictures).clamp(0, 1)) * text).sum()
            grad, = torch.autograd.grad(score, pictures)
            pictures = (pictures.detach() + STEP * grad.sign()).clamp(0, 1)
        self.pictures[concepts] = pictures.cpu()
        return pictures


def ranked_above_steered(image: torch.Tensor, steered: torch.Tensor, text: torch.Tensor, labels: torch.Tensor,
                         scale: torch.Tensor) -> torch.Tensor:
    """For each caption (B,D), softmax over the batch's pictures (B,D) and the steered ones (K,D): the
    caption's own pictures (same label) must win against the other emoji and against every steered one."""
    scores = scale * text @ torch.cat([image, steered]).T                        # (B, B+K)
    own = labels[:, None] == labels[None, :]
    own = torch.cat([own, torch.zeros(len(text), len(steered), dtype=torch.bool, device=own.device)], 1)
    return matches_win(scores, own)
