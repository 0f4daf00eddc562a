"""Sprite drawer: optimises the latent of a small emoji-trained decoder (pixray's generator prior),
so the picture stays a plausible 32x32 sprite while the guide steers it. Without an init image it
starts near the emoji whose name best matches the prompt (retrieval in the prior's latent space).

When a prompt names a colour, a hue rotation of the decoded sprite is a parameter too (a palette swap,
as pixel artists recolour a sprite): the prior only knows the colours emoji have, so "a blue apple"
needs it. The start tries every 15 degrees (guide/bank.py: best_hue). A sprite with too little colour
to rotate ("a red ghost": the ghost is white) has the colour multiplied in first (bank.best_tint). A
rotated sprite's pixels of the named colour then take the saturation and value the emoji sets paint that
colour with (bank.toned: a blue fish turned yellow is yellow, not olive).

The sprite is square. On a grid of another shape (an aspect, a size or an init image of another shape)
it sits centred on paper (transparent with transparent=true) as large as fits; on a grid larger than the
prior's 32 cells it is scaled by a whole number, so every sprite pixel stays a block of whole cells."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from pixray.errors import SettingsError, warn
from pixray.guide.bank import (best_entry, best_hue, best_tint, named_colours, on_paper, recolour_gains,
                               spelled_out, tinted, toned)
from pixray.guide.model import GuideModel, words
from pixray.guide.prior import PRIOR_WEIGHTS, SpritePrior
from pixray.guide.robust import hue_rotate
from pixray.perceptors import GUIDE_WEIGHTS
from pixray.prompts import wanted_texts
from pixray.images import tensor_to_pil

from .base import Drawer, DrawerOutput

START_NOISE = 0.1  # how far from the retrieved sprite the optimisation starts (a little: the seed matters)
# The hue moves this many degrees per unit of learning rate (0.01 → up to ~2 degrees a step).
HUE_RATE = 200


class SpriteDrawer(Drawer):
    # measured (benchmarks/guide_quality.py, R@1 as drawn / coarsened after 100 steps, start 0.67 / 0.64):
    # 0.01 drifts from the sprite (0.60 / 0.58), 0.005 less (0.63 / 0.63), 0.0025 keeps it (0.68 / 0.63)
    default_learning_rate = 0.0025
    supports_transparency = True
    native_grid = True
    default_pixel_size = (32, 32)  # the prior's own resolution
    # It starts at the emoji's picture already; steered towards the guide's view of that picture as
    # well as the words it gained less (R@1 coarsened, seed 0: 0.82 with the words alone, 0.79 at 0.75)
    setting_defaults = {"guide_picture_mix": 0.0}

    @classmethod
    def resolve_settings(cls, settings) -> None:
        if not PRIOR_WEIGHTS.is_file():
            raise SettingsError(f"drawer 'sprite' needs {PRIOR_WEIGHTS}; rebuild it with python -m pixray.guide.prior")

    shares_models = True

    def __init__(self, settings, device, generator, models=None):
        super().__init__(settings, device, generator, models)
        self.prior, self.bank = self.load_model((str(PRIOR_WEIGHTS),), self._load_prior)
        config = self.prior.config
        self.cells_w, self.cells_h = settings.pixel_size
        self.width, self.height = settings.size
        self.z = torch.zeros(1, config.latent_channels, config.latent_size, config.latent_size, device=device,
                             requires_grad=True)
        # degrees about the grey axis; a palette swap is made when a colour is asked for: left free for
        # every prompt, the guide turned it where no colour was named (sprite row, mean of 3 seeds: hue
        # spread 0.70 → 0.66 bits, coarsened R@1 0.76 → 0.80 with it fixed)
        self.hue = torch.zeros(1, device=device, requires_grad=bool(named_colours(self._wanted())))
        self.tint = None  # (3,) multiplied into a colourless sprite when a colour is named (init_from_image)
        self.tone = (1.0, 1.0)  # saturation and value gains of a rotated sprite's colour (init_from_image)

    def _load_prior(self):
        data = torch.load(PRIOR_WEIGHTS, weights_only=True)
        return SpritePrior.from_file(data).to(self.device), data.get("bank")

    def _wanted(self) -> list[str]:
        """The prompts that say what to draw, their emoji characters written as names ("a 🐸" → "a frog")."""
        texts = wanted_texts(self.settings.prompts)
        return [spelled_out(text, self.bank) for text in texts] if self.bank is not None else texts

    def _guide(self) -> GuideModel:
        """The embedded guide, on the CPU: the start asks it a few questions once, with the bank's tensors."""
        return self.load_model(("guide", str(GUIDE_WEIGHTS)),
                               lambda: GuideModel.from_file(torch.load(GUIDE_WEIGHTS, weights_only=True)))

    def _closest_sprite(self) -> torch.Tensor | None:
        """The bank latent that best matches the prompts (pixray/guide/bank.py); says so when the guide
        does not know the prompt's words, since the start is then a guess."""
        wanted = self._wanted()
        if self.bank is None or not wanted:
            return None
        entry, unknown = best_entry(self.bank, self.prior, GUIDE_WEIGHTS, wanted, guide=self._guide())
        prompt_words = [w for text in wanted for w in words(text)]
        if unknown or not prompt_words:
            partly = 0 < len(unknown) < len(prompt_words)
            what = f"the words {', '.join(map(repr, unknown))}" if partly else "any of the words"
            warn(f"drawer 'sprite': the embedded guide does not know {what} of {' | '.join(wanted)!r}; "
                 f"it starts from the emoji {self.bank['captions'][entry]!r}")
        return self.bank["latents"][entry].float()[None]

    def init_from_image(self, image):
        start = torch.randn(self.z.shape, generator=self.generator)
        closest = self._closest_sprite() if image is None else None
        hue = 0.0
        if closest is not None:
            with torch.no_grad():
                sprite = self.prior.decode(closest.to(self.device)).cpu()
            tint = best_tint(sprite, self._wanted())
            self.tint = None if tint is None else tint.to(self.device)
            painted = tinted(sprite, tint)
            hue = best_hue(self._guide(), painted, self._wanted())
            if hue:
                rotated = hue_rotate(painted, torch.tensor([hue]))
                self.tone = recolour_gains(rotated, self._wanted(), self.bank.get("tones"))
            start = closest + START_NOISE * start
        if image is not None:
            square = F.interpolate(self._under_sprite(image.float().cpu()), size=(self.prior.config.size,) * 2,
                                   mode="area")
            with torch.no_grad():
                mean, _ = self.prior.encode(torch.cat([square, torch.ones_like(square[:, :1])], 1).to(self.device))
            alpha = self.settings.init_image_alpha / 255
            start = alpha * mean.cpu() + (1 - alpha) * start
        with torch.no_grad():
            self.z.copy_(start.to(self.device))
            self.hue.fill_(hue)

    def param_groups(self):
        groups = [{"params": [self.z], "lr": self.settings.learning_rate}]
        if self.hue.requires_grad:
            groups.append({"params": [self.hue], "lr": self.settings.learning_rate * HUE_RATE})
        return groups

    def sprite_box(self) -> tuple[int, int, int]:
        """Where the sprite sits on the grid: its left and top cell and its side in cells. Scaled down to the
        grid's short side when that is under the prior's size, else up by the largest whole number that fits
        (a 48-cell grid holds the 32-pixel sprite with 8 cells of paper round it, not blown up to mixels)."""
        size, short = self.prior.config.size, min(self.cells_w, self.cells_h)
        side = short if short < size else size * (short // size)
        return (self.cells_w - side) // 2, (self.cells_h - side) // 2, side

    def _under_sprite(self, image: torch.Tensor) -> torch.Tensor:
        """The part of a (1,3,H,W) picture at the output size that the sprite covers."""
        left, top, side = self.sprite_box()
        height, width = image.shape[2:]
        x0, x1 = round(left * width / self.cells_w), round((left + side) * width / self.cells_w)
        y0, y1 = round(top * height / self.cells_h), round((top + side) * height / self.cells_h)
        return image[:, :, y0:y1, x0:x1]

    def cell_pixels(self) -> torch.Tensor:
        rgba = toned(hue_rotate(tinted(self.prior.decode(self.z), self.tint), self.hue), self.tone)
        left, top, side = self.sprite_box()
        mode = "area" if side <= rgba.shape[3] else "nearest-exact"
        rgba = F.interpolate(rgba, size=(side, side), mode=mode)
        # the rest of the grid is clear (alpha 0): paper, or transparent with transparent=true
        rgba = F.pad(rgba, (left, self.cells_w - side - left, top, self.cells_h - side - top))
        return rgba if self.settings.transparent else on_paper(rgba)

    def synth(self):
        return F.interpolate(self.cell_pixels(), size=(self.height, self.width), mode="nearest-exact")

    def clamp(self):
        with torch.no_grad():
            self.z.clamp_(-4, 4)  # stay where the prior has seen data (a standard normal latent)

    def export(self):
        with torch.no_grad():
            return DrawerOutput(image=tensor_to_pil(self.synth()), sprite=tensor_to_pil(self.cell_pixels()))
