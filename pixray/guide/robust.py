"""Adversarial fine-tuning of the embedded guide, so that its gradients draw.

A guide trained on clean pictures alone is satisfied by per-pixel patterns a person cannot see: steered
by it, the pixel drawer paints rainbow noise. Trained to keep its answer under the worst small change
of its input (projected gradient descent in an L2 ball, Madry et al. 2018), a model's input gradients
point at changes a person sees too (Santurkar et al. 2019, "Image Synthesis with a Single (Robust)
Classifier"), so gradient steps from noise start to paint the named thing.

The views are the loop's (train.augment: backgrounds, crops, pixelation, few colours), and a part of
each batch is hue-rotated with a caption naming its new colour ("a blue apple"), so colour is something
the guide reads from the picture, not a fact about one emoji.

    python -m pixray.guide.train --out /tmp/clean_guide.pt          # the clean guide (~28 min, 2 cores)
    python -m pixray.guide.robust --start /tmp/clean_guide.pt --epsilon 3 --epochs 120 [--resume] [--device cuda]

Checkpoints (model, optimiser, RNG states) are written after every epoch outside the repository;
--resume continues from the last one, so a rebuild can span several sittings.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from pathlib import Path

import torch

from .model import GuideModel
from .negatives import SteeredBuffer, ranked_above_steered
from .train import (TEMPLATES, as_tensor, augment, load_styles, multi_positive_loss, sample_captions,
                    load_checkpoint, restore_rng, rng_state, save_checkpoint)

STYLES = ["google", "fluent"]
# Hue ranges (degrees, start of each) and the colour word a person would use for them.
HUE_NAMES = [(0, "red"), (15, "orange"), (40, "yellow"), (70, "green"), (160, "blue"), (250, "purple"),
             (290, "pink"), (345, "red")]
COLOURS = ["red", "orange", "yellow", "green", "blue", "purple", "pink"]
COLOUR_WORDS = set(COLOURS) | {"brown", "black", "white", "grey", "gray", "violet", "cyan", "gold", "silver"}


def hue_rotate(pictures: torch.Tensor, degrees: torch.Tensor) -> torch.Tensor:
    """Rotate the colours of (B,3 or 4,H,W) pictures about the grey axis by `degrees` (B,): hue changes,
    greys stay grey, alpha is kept."""
    rgb = pictures[:, :3]
    angle = torch.deg2rad(degrees).view(-1, 1, 1)
    k = 3 ** -0.5  # the grey axis (1,1,1), normalised
    cross = torch.tensor([[0.0, -k, k], [k, 0.0, -k], [-k, k, 0.0]], device=rgb.device)
    rotation = (torch.cos(angle) * torch.eye(3, device=rgb.device) + torch.sin(angle) * cross
                + (1 - torch.cos(angle)) * torch.full((3, 3), k * k, device=rgb.device))  # Rodrigues' formula
    return torch.cat([torch.einsum("bij,bjhw->bihw", rotation, rgb).clamp(0, 1), pictures[:, 3:]], 1)


def hue_degrees(rgb: torch.Tensor) -> torch.Tensor:
    """HSV hue in degrees of (...,3) colours."""
    r, g, b = rgb.unbind(-1)
    top, bottom = rgb.max(-1).values, rgb.min(-1).values
    span = (top - bottom).clamp_min(1e-6)
    hue = torch.where(top == r, ((g - b) / span) % 6, torch.where(top == g, (b - r) / span + 2, (r - g) / span + 4))
    return hue * 60


def is_saturated(rgb: torch.Tensor) -> torch.Tensor:
    """Which (...,3) colours have a hue worth naming (not grey, white or near black)."""
    top, bottom = rgb.max(-1).values, rgb.min(-1).values
    return (top - bottom > 0.25) & (top > 0.2)


def colour_name(degrees: float) -> str:
    return [name for start, name in HUE_NAMES if degrees >= start][-1]


def colour_indices(rgb: torch.Tensor) -> torch.Tensor:
    """The index in COLOURS of each (...,3) colour's hue (saturated or not)."""
    by_degree = torch.tensor([COLOURS.index(colour_name(d)) for d in range(360)])
    return by_degree[hue_degrees(rgb).long().clamp(0, 359)]


def colour_counts(rgba: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For (B,3 or 4,H,W) pictures: how many opaque, saturated pixels each colour word of COLOURS
    has (B,len(COLOURS)), and how many pixels are opaque (B,)."""
    pixels = rgba.flatten(2).transpose(1, 2)                                   # (B,HW,C)
    rgb = pixels[..., :3]
    opaque = pixels[..., 3] > 0.5 if pixels.shape[-1] == 4 else torch.ones(rgb.shape[:2], dtype=torch.bool)
    saturated = opaque & is_saturated(rgb)
    index = colour_indices(rgb)
    return torch.zeros(len(rgb), len(COLOURS)).scatter_add_(1, index, saturated.float()), opaque.sum(1)


def dominant_colour(rgba: torch.Tensor, min_share: float = 0.25) -> list[str | None]:
    """The colour word for the most common hue among each picture's opaque, saturated pixels, or None
    when too few pixels are saturated (a grey skull has no colour to name). (B,3 or 4,H,W) → B names."""
    counts, opaque = colour_counts(rgba)
    enough = counts.sum(1) >= min_share * opaque.clamp_min(1)
    return [COLOURS[int(i)] if ok else None for i, ok in zip(counts.argmax(1), enough)]


def hue_spread(rgb: torch.Tensor, bins: int = 12) -> torch.Tensor:
    """For each (B,3,H,W) picture, the entropy in bits of the hue histogram (bins of 360/bins degrees)
    of its saturated pixels: rainbow noise spreads over every hue (~2 bits), a drawn thing keeps to a
    few (the sprite drawer's emoji: ~0.6); 0 for one hue or none."""
    pixels = rgb.flatten(2).transpose(1, 2)                                   # (B,HW,3)
    index = (hue_degrees(pixels) / (360 / bins)).long().clamp(0, bins - 1)
    counts = torch.zeros(len(rgb), bins, device=rgb.device).scatter_add_(1, index, is_saturated(pixels).float())
    share = counts / counts.sum(1, keepdim=True).clamp_min(1)
    return (share * (1 / share.clamp_min(1e-12)).log2()).sum(1)


def without_colour(caption: str) -> str:
    return " ".join(w for w in caption.split() if w.lower() not in COLOUR_WORDS) or caption


def recolour_batch(rgba: torch.Tensor, captions: list[list[str]], share: float, gen: torch.Generator,
                   rng: random.Random) -> tuple[torch.Tensor, list[str], list[int]]:
    """Hue-rotate a `share` of the batch and caption every picture; returns pictures, captions and each
    picture's colour id (0: no colour) so that a blue apple and a red apple are different answers."""
    rotate = torch.rand(len(rgba), generator=gen) < share
    degrees = torch.where(rotate, 30 + 300 * torch.rand(len(rgba), generator=gen), torch.zeros(len(rgba)))
    rgba = hue_rotate(rgba, degrees)
    colours = dominant_colour(rgba)
    texts = sample_captions(captions, rng)
    for i, colour in enumerate(colours):
        if colour and (bool(rotate[i]) or rng.random() < 0.3):
            texts[i] = rng.choice(TEMPLATES).format(f"{colour} {without_colour(captions[i][0])}")
    return rgba, texts, [COLOURS.index(c) + 1 if c else 0 for c in colours]


def pgd_l2(model: GuideModel, views: torch.Tensor, text: torch.Tensor, labels: torch.Tensor, epsilon: float,
           steps: int, gen: torch.Generator) -> torch.Tensor:
    """The views moved, within an L2 ball of radius `epsilon` each, to raise the contrastive loss the
    most (random start, `steps` normalised gradient steps of 2.5 epsilon / steps)."""
    noise = torch.randn(views.shape, generator=gen).to(views.device)
    delta = noise / noise.flatten(1).norm(dim=1).view(-1, 1, 1, 1) * epsilon * torch.rand(
        len(views), 1, 1, 1, generator=gen).to(views.device)
    step = 2.5 * epsilon / max(1, steps)
    scale = model.logit_scale.exp().clamp(max=100).detach()
    for _ in range(steps):
        delta.requires_grad_(True)
        logits = scale * model.encode_image((views + delta).clamp(0, 1)) @ text.T
        grad, = torch.autograd.grad(multi_positive_loss(logits, labels), delta)
        with torch.no_grad():
            delta = delta + step * grad / grad.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, 1, 1, 1)
            norms = delta.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
            delta = delta * (epsilon / norms).clamp(max=1)
    return (views + delta.detach()).clamp(0, 1)


def fine_tune(epsilon: float, steps: int, epochs: int, batch: int, cache: Path, checkpoints: Path, resume: bool,
              device: str, start: Path, seed: int = 0, recolour: float = 0.5, lr: float = 3e-4,
              paper: float = 0.6, styles: list[str] = STYLES, negatives: int = 0, negative_steps: int = 5,
              log=print) -> GuideModel:
    torch.manual_seed(seed)
    gen, rng = torch.Generator().manual_seed(seed), random.Random(seed)
    images, captions, codes = load_styles(styles, cache)
    concept = {code: i for i, code in enumerate(dict.fromkeys(codes))}
    concepts = torch.tensor([concept[c] for c in codes])
    pixels = as_tensor(images)
    model = GuideModel.from_file(torch.load(start, weights_only=True)).to(device).requires_grad_(True)
    model.eval()  # BatchNorm keeps the statistics of clean training: attacks must not shift them
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    steps_per_epoch = math.ceil(len(codes) / batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=lr, total_steps=epochs * steps_per_epoch,
                                                   pct_start=0.05)
    first_epoch = 0
    buffer = SteeredBuffer(len(concept), model.config.image_size, gen) if negatives else None
    recipe = {"epsilon": epsilon, "steps": steps, "epochs": epochs, "batch": batch, "lr": lr, "recolour": recolour,
              "paper": paper, "seed": seed, "styles": list(styles), "negatives": negatives,
              "negative_steps": negative_steps}
    checkpoints.mkdir(parents=True, exist_ok=True)
    last = checkpoints / "last.pt"
    if resume and last.exists():
        state = load_checkpoint(last, recipe, model, optimiser, schedule, device)
        restore_rng(state["rng"], gen, rng)
        if buffer is not None:
            buffer.pictures = state["steered"]
        first_epoch = state["epoch"]
        log(f"resumed after epoch {first_epoch}")
    began = time.time()
    for epoch in range(first_epoch, epochs):
        order = torch.randperm(len(codes), generator=gen)
        for first in range(0, len(order), batch):
            chosen = order[first:first + batch]
            rgba, texts, colours = recolour_batch(pixels[chosen], [captions[i] for i in chosen.tolist()], recolour,
                                                  gen, rng)
            labels = (concepts[chosen] * (len(COLOURS) + 1) + torch.tensor(colours)).to(device)
            views = augment(rgba, model.config.image_size, gen, paper=paper).to(device)
            text = model.encode_text(texts)
            attacked = pgd_l2(model, views, text.detach(), labels, epsilon, steps, gen) if epsilon > 0 else views
            scale = model.logit_scale.exp().clamp(max=100)
            clean = model.encode_image(views)
            loss = (multi_positive_loss(scale * model.encode_image(attacked) @ text.T, labels)
                    + multi_positive_loss(scale * clean @ text.T, labels)) / 2
            if buffer is not None:
                some = slice(0, negatives)
                steered = buffer.steer(model, concepts[chosen][some], text[some].detach(), negative_steps)
                loss = loss + ranked_above_steered(clean, model.encode_image(steered), text, labels, scale)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
        save_checkpoint({"model": model.state_dict(), "optimiser": optimiser.state_dict(),
                         "schedule": schedule.state_dict(), "epoch": epoch + 1, "rng": rng_state(gen, rng),
                         "recipe": recipe, "steered": buffer.pictures if buffer is not None else None}, last)
        if epoch % 5 == 4 or epoch == epochs - 1:
            log(f"epoch {epoch + 1}/{epochs} loss {loss.item():.3f} ({time.time() - began:.0f} s)")
    return model.cpu().eval().requires_grad_(False)


def main() -> None:
    from ..perceptors import GUIDE_WEIGHTS

    parser = argparse.ArgumentParser(description="Adversarially fine-tune pixray's embedded guide.")
    parser.add_argument("--epsilon", type=float, default=3.0, help="L2 radius of the attack, in [0,1] pixels")
    parser.add_argument("--steps", type=int, default=3, help="PGD steps per batch")
    parser.add_argument("--epochs", type=int, default=120)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--recolour", type=float, default=0.5, help="share of each batch that is hue-rotated")
    parser.add_argument("--paper", type=float, default=0.6,
                        help="share of views on white paper (the rest: train.augment's mix of backgrounds)")
    parser.add_argument("--negatives", type=int, default=0,
                        help="per batch, how many emoji also get their steered picture stepped and ranked below "
                             "the real ones (negatives.py; 0: off)")
    parser.add_argument("--negative-steps", type=int, default=5, help="steering steps per visit of a steered picture")
    parser.add_argument("--styles", nargs="+", default=STYLES,
                        help="emoji sets to learn from (data.PACKAGES; never the judge's)")
    parser.add_argument("--start", type=Path, required=True,
                        help="the clean guide to fine-tune (python -m pixray.guide.train --out FILE makes it)")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "pixray" / "emoji")
    parser.add_argument("--checkpoints", type=Path, default=Path.home() / ".cache" / "pixray" / "robust")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--out", type=Path, default=GUIDE_WEIGHTS)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    began = time.time()
    model = fine_tune(args.epsilon, args.steps, args.epochs, args.batch, args.cache, args.checkpoints, args.resume,
                      args.device, args.start, recolour=args.recolour, lr=args.lr, paper=args.paper,
                      styles=args.styles, negatives=args.negatives, negative_steps=args.negative_steps)
    data = model.to_file()
    data["training"] = {"fine_tuned_from": str(args.start.name), "epsilon": args.epsilon, "steps": args.steps,
                        "epochs": args.epochs, "batch": args.batch, "lr": args.lr, "recolour": args.recolour,
                        "paper": args.paper, "styles": args.styles, "negatives": args.negatives,
                        "negative_steps": args.negative_steps,
                        "seconds": round(time.time() - began), "device": args.device}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(data, args.out)
    print(json.dumps(data["training"]), "→", args.out)


if __name__ == "__main__":
    main()
