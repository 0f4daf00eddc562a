"""A small variational autoencoder of 32x32 emoji sprites: its decoder is the `sprite` drawer's
generator prior, so optimisation moves among plausible sprites instead of free pixels.

    python -m pixray.guide.prior        # → pixray/data/sprite_prior.pt (~55 min on a CPU core; --resume)
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .data import is_validation
from .model import SavedModule
from .train import as_tensor, load_checkpoint, load_styles, save_checkpoint

STYLES = ["google", "fluent"]  # the guide's styles (Apache-2.0, MIT): the prior ships in the package

PRIOR_WEIGHTS = Path(__file__).resolve().parents[1] / "data" / "sprite_prior.pt"
# 0.02 (and 45 epochs) decoded every emoji blurred, eyes and candles gone (validation L1 0.058); 0.005 and
# 150 epochs keep them (0.034): the drawer starts at a latent that is the emoji's, so sharpness counts more
# than a tidy latent space (MODEL_CARD.md, session 19)
KL_WEIGHT = 0.005
EPOCHS = 150
CHECKPOINT_EVERY = 5  # epochs


@dataclass
class PriorConfig:
    size: int = 32
    latent_channels: int = 4
    latent_size: int = 8  # 8x8 latents keep outlines and eyes that a 4x4 latent blurs away
    width: int = 48


def _block(cin: int, cout: int, down: bool) -> nn.Sequential:
    conv = nn.Conv2d(cin, cout, 4, 2, 1) if down else nn.ConvTranspose2d(cin, cout, 4, 2, 1)
    return nn.Sequential(conv, nn.GroupNorm(8, cout), nn.SiLU(), nn.Conv2d(cout, cout, 3, 1, 1), nn.SiLU())


class SpritePrior(SavedModule):
    file_format = "pixray-sprite-prior-1"
    config_class = PriorConfig

    def __init__(self, config: PriorConfig):
        super().__init__()
        self.config = config
        w, c = config.width, config.latent_channels
        widths = [w * min(2, 1 + i) for i in range(int(math.log2(config.size // config.latent_size)) + 1)]
        down = [_block(a, b, True) for a, b in zip(widths, widths[1:])]
        up = [_block(b, a, False) for a, b in reversed(list(zip(widths, widths[1:])))]
        self.encoder = nn.Sequential(nn.Conv2d(4, w, 3, 1, 1), nn.SiLU(), *down, nn.Conv2d(widths[-1], 2 * c, 1))
        self.decoder = nn.Sequential(nn.Conv2d(c, widths[-1], 3, 1, 1), nn.SiLU(), *up, nn.Conv2d(w, 4, 3, 1, 1))

    def encode(self, rgba: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_var = self.encoder(rgba * 2 - 1).chunk(2, 1)
        return mean, log_var.clamp(-10, 10)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latents (B,C,h,w) → RGBA sprites (B,4,size,size) in [0,1]."""
        return torch.sigmoid(self.decoder(z))


def train(cache: Path, epochs: int, seed: int = 0, kl_weight: float = KL_WEIGHT, config: PriorConfig | None = None,
          checkpoints: Path | None = None, resume: bool = False, stop_after: int | None = None,
          log=print) -> tuple[SpritePrior, dict | None]:
    """The prior, trained on the guide's emoji styles (a stable 10 % of emoji held out); see fit."""
    images, _, codes = load_styles(STYLES, cache)
    rgba = F.interpolate(as_tensor(images), size=(32, 32), mode="area")
    train_set = rgba[[i for i, c in enumerate(codes) if not is_validation(c)]]
    val_set = rgba[[i for i, c in enumerate(codes) if is_validation(c)]]
    return fit(train_set, val_set, epochs, seed, kl_weight, config or PriorConfig(), checkpoints, resume, stop_after,
               log)


def fit(train_set: torch.Tensor, val_set: torch.Tensor, epochs: int, seed: int, kl_weight: float, config: PriorConfig,
        checkpoints: Path | None = None, resume: bool = False, stop_after: int | None = None,
        log=print) -> tuple[SpritePrior, dict | None]:
    """Train on (N,4,32,32) sprites. `checkpoints`: a folder (outside the repository) whose last.pt holds the
    training state, saved every CHECKPOINT_EVERY epochs; `resume` continues from it, to the same weights as
    an uninterrupted run; `stop_after`: end this sitting after that epoch (metrics None: unfinished)."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = SpritePrior(config)
    optimiser = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    steps = epochs * -(-len(train_set) // 128)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=2e-3, total_steps=steps, pct_start=0.1)
    first_epoch, seconds_before = 0, 0.0
    recipe = {"epochs": epochs, "seed": seed, "kl_weight": kl_weight, "config": asdict(model.config),
              "items": len(train_set)}
    last = checkpoints / "last.pt" if checkpoints is not None else None
    if resume and last is not None and last.is_file():
        state = load_checkpoint(last, recipe, model, optimiser, schedule)
        gen.set_state(state["generator"])
        first_epoch, seconds_before = state["epoch"], state["seconds"]
        log(f"resumed after epoch {first_epoch}")
    start = time.time() - seconds_before

    def losses(batch):
        mean, log_var = model.encode(batch)
        z = mean + torch.randn(mean.shape, generator=gen) * (0.5 * log_var).exp()
        decoded = model.decode(z)
        # colour matters where the sprite is opaque; alpha everywhere
        alpha = batch[:, 3:]
        recon = (F.l1_loss(decoded[:, :3] * alpha, batch[:, :3] * alpha) + F.l1_loss(decoded[:, 3:], alpha))
        kl = 0.5 * (mean.square() + log_var.exp() - 1 - log_var).mean()
        return recon, kl

    for epoch in range(first_epoch, epochs):
        model.train()
        order = torch.randperm(len(train_set), generator=gen)
        for first in range(0, len(order), 128):
            batch = train_set[order[first:first + 128]]
            flip = torch.rand(len(batch), generator=gen) < 0.5
            batch = torch.where(flip.view(-1, 1, 1, 1), batch.flip(3), batch)
            recon, kl = losses(batch)
            optimiser.zero_grad()
            (recon + kl_weight * kl).backward()
            optimiser.step()
            schedule.step()
        if epoch % 20 == 19 or epoch == epochs - 1:
            log(f"epoch {epoch + 1}/{epochs} recon {recon.item():.4f} kl {kl.item():.3f} ({time.time() - start:.0f} s)")
        stopping = stop_after is not None and stop_after <= epoch + 1 < epochs
        if last is not None and (epoch % CHECKPOINT_EVERY == CHECKPOINT_EVERY - 1 or epoch == epochs - 1 or stopping):
            save_checkpoint({"recipe": recipe, "epoch": epoch + 1, "seconds": time.time() - start,
                             "model": model.state_dict(), "optimiser": optimiser.state_dict(),
                             "schedule": schedule.state_dict(), "generator": gen.get_state()}, last)
        if stopping:
            log(f"stopped after epoch {epoch + 1}; --resume with the same options continues")
            return model.eval().requires_grad_(False), None
    model.eval().requires_grad_(False)
    with torch.no_grad():
        val_recon, val_kl = losses(val_set)
    return model, {"train_items": len(train_set), "validation_items": len(val_set), "kl_weight": kl_weight,
                   "validation_l1": round(val_recon.item(), 4), "validation_kl": round(val_kl.item(), 3),
                   "train_seconds": round(time.time() - start)}


@torch.no_grad()
def sprite_bank(model: SpritePrior, cache: Path, guide_path: Path) -> dict:
    """Latent means of every emoji of both styles with its main caption (see bank.py)."""
    from . import bank
    images, captions, codes = load_styles(STYLES, cache)
    mean, _ = model.encode(F.interpolate(as_tensor(images), size=(32, 32), mode="area"))
    return bank.build(model, mean, captions, codes, guide_path)


def main() -> None:
    from ..perceptors import GUIDE_WEIGHTS

    parser = argparse.ArgumentParser(description="Train the sprite drawer's generator prior from emoji.")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "pixray" / "emoji")
    parser.add_argument("--out", type=Path, default=PRIOR_WEIGHTS)
    parser.add_argument("--guide", type=Path, default=GUIDE_WEIGHTS, help="the guide whose view the bank stores")
    parser.add_argument("--bank-only", action="store_true",
                        help="keep the prior in --out, rebuild only its bank (after the guide changed)")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--kl-weight", type=float, default=KL_WEIGHT)
    parser.add_argument("--width", type=int, default=PriorConfig.width)
    parser.add_argument("--checkpoints", type=Path, default=Path.home() / ".cache" / "pixray" / "prior",
                        help="where the training state is saved every few epochs (outside the repository)")
    parser.add_argument("--resume", action="store_true", help="continue the training saved in --checkpoints")
    parser.add_argument("--stop-after", type=int, metavar="EPOCH",
                        help="end this sitting after that epoch; a later --resume continues")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.bank_only:
        data = torch.load(args.out, weights_only=True)
        model = SpritePrior.from_file(data)
    else:
        model, metrics = train(args.cache, args.epochs, kl_weight=args.kl_weight, config=PriorConfig(width=args.width),
                               checkpoints=args.checkpoints, resume=args.resume, stop_after=args.stop_after)
        if metrics is None:
            return
        data = {**model.to_file(), "metrics": metrics}
    data["bank"] = sprite_bank(model, args.cache, args.guide)
    torch.save(data, args.out)
    print(json.dumps(data["metrics"]), "→", args.out)


if __name__ == "__main__":
    main()
