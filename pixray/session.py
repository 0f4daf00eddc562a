"""Session: one optimisation run. It owns the drawer, perceptors, prompt losses, optimiser and RNG,
and holds the only loop (`iterate`); everything else (CLI, files, notebooks) consumes its progress."""

from __future__ import annotations

import hashlib
import math
import secrets
from contextlib import closing
from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Iterator

import torch
import torch.nn.functional as F
from PIL import Image

from .cutouts import Cutouts, centre_square
from .errors import NonFiniteLossError, warn
from .filters import build_filters
from .export import choose_palette, finalize
from .losses import LossContext, build_losses
from .losses.anchor import anchor_losses
from .optimisers import build_optimiser
from .spot import spot_mask
from .losses.palette import PaletteLoss
from .palettes import load_palette
from .drawers import drawer_class
from .drawers.grid import PixelGrid
from .image_files import open_image
from .images import load_image_tensor, over, pil_to_tensor, tensor_to_pil
from .outputs import OutputWriter, RunResult
from .perceptors import ModelCache, Perceptor, parse_model_name
from .losses.prompt import PromptLoss
from .prompts import parse_prompt
from .settings import LATENT_ANCHORS, Settings
from .signals import deferred_interrupts, terminate_as_interrupt


REFIT_EVERY = 10  # iterations between fits of the automatic palette (a fit takes milliseconds)
AUTO_STOP_PATIENCE = 12  # iterations without a better loss before auto_stop drops the rate (pixray 1.9's)
# pixray's labels: a class name is encoded through these and averaged (CLIP's prompt-ensembling habit)
LABEL_TEMPLATES = ("a photo of a {}.", "a drawing of a {}.", "pixel art of a {}.", "a {} in a video game.",
                   "art of the {}.", "a photo of the small {}.", "a photo of the large {}.")


def resolve_seed(seed: int | str | None) -> int:
    """An int seed as is; a string hashed stably; None → a fresh random seed (recorded in outputs)."""
    if seed is None:
        return secrets.randbits(31)
    if isinstance(seed, int):
        return seed % 2**63
    return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "little") % 2**63


def pick_device(name: str) -> torch.device:
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


@dataclass
class Progress:
    """What the loop reports: the iteration just finished and its losses; the image on demand."""

    iteration: int
    iterations: int
    losses: dict[str, float]
    session: "Session"

    @cached_property
    def image(self) -> Image.Image:
        return self.session.image()


class Session:
    def __init__(self, settings: Settings, model_cache: ModelCache | None = None, losses: dict | None = None):
        self.settings = settings
        self.device = pick_device(settings.device)
        self.seed = resolve_seed(settings.seed)
        self.generator = torch.Generator().manual_seed(self.seed)
        self.iteration = 0
        self.outdir = None  # set by run() once the output folder exists
        self.result: RunResult | None = None  # set when run() / run_iter() ends

        cache = model_cache if model_cache is not None else ModelCache()
        drawer = drawer_class(settings.drawer)
        self.drawer = drawer(settings, self.device, self.generator, **({"models": cache} if drawer.shares_models else {}))
        if settings.pixel_size is not None and not self.drawer.native_grid:
            self.drawer = PixelGrid(self.drawer, settings)
        init = load_image_tensor(settings.init_image, settings.size) if settings.init_image else None
        self.drawer.init_from_image(init)
        self.init_image = init.to(self.device) if init is not None else None
        anchored = any(getattr(settings, name) for name in LATENT_ANCHORS)
        self.start_latent = self.drawer.latent().detach().clone() if anchored and init is not None else None
        self.overlay = (load_image_tensor(settings.overlay_image, settings.size, "overlay_image", keep_alpha=True)
                        .to(self.device)
                        if settings.overlay_image else None)
        if settings.deterministic and self.device.type == "cuda":
            torch.backends.cudnn.deterministic = True
            torch.backends.cudnn.benchmark = False
        self.palette = load_palette(settings.palette).tensor(self.device) if settings.palette else None
        # colors_fit=during: a sprite's `colors` are refitted as the picture changes and the soft palette
        # loss pulls towards them (measured no better than fitting at the end: benchmarks/pixel_quality.py).
        self.fits_palette = (self.palette is None and bool(settings.colors) and settings.pixel_size is not None
                             and settings.colors_fit == "during")
        self.custom_losses = build_losses(settings, losses)  # losses: add_custom_loss's, beside the built-in
        self.filters = build_filters(settings, self.generator)
        if (((self.palette is not None and settings.palette_mode == "soft") or self.fits_palette)
                and settings.palette_weight > 0
                and not any(isinstance(loss, PaletteLoss) for loss in self.custom_losses)):
            self.custom_losses.append(PaletteLoss(settings, settings.palette_weight))

        # Image prompts are read once; each perceptor encodes them in _encode_prompts.
        self.image_prompts = [(p, pil_to_tensor(open_image(p.text, "image_prompts")).to(self.device))
                              for p in map(parse_prompt, settings.image_prompts)]
        self.perceptors: list[Perceptor] = [cache.get(parse_model_name(n), self.device)
                                            for n in settings.clip_models]
        self.cutouts = Cutouts(max(p.image_size for p in self.perceptors), settings.num_cuts,
                               max(p.min_cut_area for p in self.perceptors), settings.cut_power)
        # the guide alone sees the canvas's centred square (perceptors.EmbeddedPerceptor); one batch of
        # cutouts serves every perceptor, so with CLIP beside it all see the whole canvas
        self.square_frame = all(p.square_frame for p in self.perceptors)
        self.prompt_losses = [self._encode_prompts(p) for p in self.perceptors]
        self._spot_masks: dict[tuple[int, int], torch.Tensor] = {}

        self.optimizer = build_optimiser(settings.optimiser, self.drawer.param_groups(), settings.learning_rate)
        self._drop_at = {max(1, round(settings.iterations * pct / 100)) for pct in settings.learning_rate_drops}
        # auto_stop: the best loss so far, when it was reached, and the drops taken since the start
        self._best, self._best_at, self._plateau_drops = math.inf, 0, 0
        self.stopped_early = False

    def _encode_prompts(self, perceptor: Perceptor) -> dict[str, list[tuple[str, PromptLoss]]]:
        """Every prompt → one loss module, encoded once per run; grouped by what they judge: the
        picture ('all'), its middle ('spot') or the rest ('spot_off')."""
        settings = self.settings
        groups = {"all": self._text_losses(perceptor, settings.prompts),
                  "spot": self._text_losses(perceptor, settings.spot),
                  "spot_off": self._text_losses(perceptor, settings.spot_off)}
        for label in map(parse_prompt, settings.labels):
            with torch.no_grad():
                embeddings = F.normalize(perceptor.encode_text([t.format(label.text) for t in LABEL_TEMPLATES]), dim=-1)
            groups["all"].append((label.text, PromptLoss(embeddings.mean(0), label.weight, label.stop)))
        for prompt, pixels in self.image_prompts:
            with torch.no_grad():
                embedding = perceptor.encode_image(self._framed(pixels))
            weight = prompt.weight if prompt.given_weight or settings.image_prompt_weight is None \
                else settings.image_prompt_weight
            groups["all"].append((prompt.text, PromptLoss(embedding, weight, prompt.stop)))
        if settings.noise_prompt_seeds:
            width = perceptor.encode_text(["x"]).shape[-1]
            for seed, weight in zip(settings.noise_prompt_seeds, settings.noise_prompt_weights):
                direction = torch.randn(width, generator=torch.Generator().manual_seed(seed))
                groups["all"].append((f"noise {seed}", PromptLoss(direction.to(self.device), weight)))
        if self.init_image is not None and settings.init_clip_weight > 0:
            with torch.no_grad():
                embedding = perceptor.encode_image(self._framed(self.init_image))
            groups["all"].append(("init_image", PromptLoss(embedding, settings.init_clip_weight)))
        prefix = perceptor.spec.name
        return {group: [(f"{prefix}:{group + ' ' if group != 'all' else ''}{name}", loss.to(self.device))
                        for name, loss in losses] for group, losses in groups.items()}

    def _framed(self, image: torch.Tensor) -> torch.Tensor:
        """A picture to steer towards, framed as the cutouts frame the canvas (its centred square for the guide)."""
        return centre_square(image) if self.square_frame else image

    def _text_losses(self, perceptor: Perceptor, prompts: list[str]) -> list[tuple[str, PromptLoss]]:
        texts = []
        for text in map(parse_prompt, prompts):
            if perceptor.reads_a_thing(text.text):
                texts.append(text)
            else:
                warn(f"{perceptor.spec.name} leaves out the prompt {text.text!r}: it reads no thing to draw in it "
                     f"(words about how to draw, like 'pixel art' and '8-bit', are left out)")
        if not texts:
            return []
        embeddings = perceptor.prompt_targets([t.text for t in texts], self.settings.guide_picture_mix)
        return [(t.text, PromptLoss(e, t.weight, t.stop)) for t, e in zip(texts, embeddings)]

    def step(self) -> dict[str, float]:
        """One optimisation step (of `batches` batches of cutouts); returns the losses (total first)."""
        self.optimizer.zero_grad(set_to_none=True)
        settings = self.settings
        if self.overlay is not None and self.iteration % settings.overlay_every == settings.overlay_offset:
            self._apply_overlay()
        totals: dict[str, float] = {}
        for batch in range(settings.batches):
            parts = self._losses(first=batch == 0)
            total = torch.stack(list(parts.values())).sum()
            total.backward()
            self._check_finite(total, parts)  # before the step: the parameters stay the last good ones
            for name, value in [("total", total), *parts.items()]:
                totals[name] = totals.get(name, 0.0) + float(value.detach())
        self.optimizer.step()
        self.drawer.clamp()
        self.iteration += 1
        if settings.auto_stop:
            self._plateau(totals["total"])
        elif self.iteration in self._drop_at:
            self._drop_learning_rate()
        return totals

    def _losses(self, first: bool) -> dict[str, torch.Tensor]:
        """The loss parts of one batch of cutouts; the picture's own losses only in the first batch."""
        image = self.drawer.synth()
        rgb = image[:, :3]
        view, parts = image, {}
        for filter_ in self.filters:
            view, loss = filter_(view)
            if loss is not None and first:
                parts[f"{filter_.name} filter"] = loss
        self._prompt_parts(view, parts)
        if not first:
            return parts
        if self.fits_palette and self.iteration % REFIT_EVERY == 0:
            self.palette = self._fit_palette(image.detach())
        context = LossContext(rgb, self.iteration, self.settings.iterations, self.palette, self.settings.tile,
                              image[:, 3:] if image.shape[1] == 4 else None, self.init_image)
        for loss in self.custom_losses:
            parts[loss.name] = loss(context)
        if self.init_image is not None:
            latent = self.drawer.latent() if self.start_latent is not None else None
            parts.update(anchor_losses(self.settings, latent, self.start_latent, rgb, self.init_image))
        if self.settings.transparent and self.settings.transparent_weight:
            parts["transparency"] = self.settings.transparent_weight * image[:, 3].mean()
        return parts

    def _prompt_parts(self, view: torch.Tensor, parts: dict[str, torch.Tensor]) -> None:
        """Cutouts of the view (and of its spot and the rest, when spot prompts are given), scored by
        each perceptor against its prompts."""
        wanted = [group for group in ("all", "spot", "spot_off") if any(p[group] for p in self.prompt_losses)]
        for group in wanted:
            masked = view if group == "all" else self._spot(view, inside=group == "spot")
            cuts = self.cutouts(self._framed(masked), self.generator)
            if cuts.shape[1] == 4:
                cuts = self._over_random_backgrounds(cuts)
            for perceptor, prompt_losses in zip(self.perceptors, self.prompt_losses):
                if prompt_losses[group]:
                    embeddings = perceptor.encode_image(cuts)
                    for name, loss in prompt_losses[group]:
                        parts[name] = loss(embeddings)

    def _spot(self, view: torch.Tensor, inside: bool) -> torch.Tensor:
        """The view with its colours blacked out outside the spot (inside=True) or inside it (alpha kept)."""
        height, width = view.shape[-2:]
        if (height, width) not in self._spot_masks:
            self._spot_masks[height, width] = spot_mask(height, width, self.settings.spot_file).to(view.device)
        mask = self._spot_masks[height, width]
        return torch.cat([view[:, :3] * (mask if inside else 1 - mask), view[:, 3:]], 1)

    def _drop_learning_rate(self) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] *= 0.1

    def _plateau(self, loss: float) -> None:
        """pixray's auto_stop: no better loss for AUTO_STOP_PATIENCE iterations drops the learning rate;
        one drop more than learning_rate_drops lists ends the run."""
        if loss < self._best:
            self._best, self._best_at = loss, self.iteration
            return
        if self.iteration - self._best_at < AUTO_STOP_PATIENCE:
            return
        self._plateau_drops += 1
        if self._plateau_drops > len(self.settings.learning_rate_drops):
            self.stopped_early = True
            return
        self._drop_learning_rate()
        self._best, self._best_at = math.inf, self.iteration

    @torch.no_grad()
    def _apply_overlay(self) -> None:
        """pixray's overlay_image: paste it over the current picture and redraw the parameters from that."""
        overlay = self.overlay
        alpha = overlay[:, 3:] if self.settings.overlay_alpha is None else \
            torch.full_like(overlay[:, 3:], self.settings.overlay_alpha / 255)
        picture = self.drawer.synth()[:, :3]
        self.drawer.reapply(alpha * overlay[:, :3] + (1 - alpha) * picture)

    def _fit_palette(self, image: torch.Tensor) -> torch.Tensor:
        """`colors` colours of the current picture's cells, chosen as the export will choose them."""
        cells_w, cells_h = self.settings.pixel_size
        sprite = tensor_to_pil(F.adaptive_avg_pool2d(image, (cells_h, cells_w)))
        return choose_palette(self.settings, sprite).tensor(self.device)

    def _check_finite(self, total: torch.Tensor, parts: dict[str, torch.Tensor]) -> None:
        grads = [p.grad for group in self.optimizer.param_groups for p in group["params"] if p.grad is not None]
        # one device-to-host read per step, whatever the number of parameters
        if bool(torch.stack([total.isfinite(), *(g.isfinite().all() for g in grads)]).all()):
            return
        bad = [name for name, value in parts.items() if not bool(torch.isfinite(value))]
        what = f"the loss ({', '.join(bad)})" if bad else "a gradient"
        raise NonFiniteLossError(f"{what} stopped being a finite number at iteration {self.iteration + 1}; "
                                 f"kept the picture of iteration {self.iteration} (a lower learning_rate or "
                                 f"smaller loss weights may help)")

    def _over_random_backgrounds(self, cuts: torch.Tensor) -> torch.Tensor:
        """Composite RGBA cutouts over random solid colours: only opaque pixels carry the subject."""
        return over(cuts, torch.rand(cuts.shape[0], 3, 1, 1, generator=self.generator).to(cuts.device))

    def iterate(self, every: int | None = None) -> Iterator[Progress]:
        """Run to `settings.iterations`, yielding progress every `every` iterations and at the end."""
        every = self.settings.display_every if every is None else every
        total = self.settings.iterations
        if self.iteration >= total:
            yield Progress(self.iteration, total, {}, self)
        while self.iteration < total and not self.stopped_early:
            losses = self.step()
            if (every and self.iteration % every == 0) or self.iteration == total or self.stopped_early:
                yield Progress(self.iteration, total, losses, self)

    @torch.no_grad()
    def image(self) -> Image.Image:
        return tensor_to_pil(self.drawer.synth())

    def run_iter(self, every: int | None = None, write_files: bool = True) -> Iterator[Progress]:
        """Run to the end as a generator: progress every `every` (default `display_every`) iterations
        and at the end; frames every `save_every`; outputs written at the end, and also when the run
        is interrupted (Ctrl-C) or the consumer stops early. The RunResult is then `self.result`."""
        settings = self.settings
        every = settings.display_every if every is None else every
        writer = OutputWriter(settings, self.seed) if write_files else None
        self.outdir = writer.outdir if writer else None
        try:
            for progress in self.iterate(every=1):
                it = progress.iteration
                if writer and writer.wants_frame(it):
                    writer.save_frame(progress.image, it)
                if (every and it % every == 0) or it == settings.iterations or self.stopped_early:
                    yield progress
        except (KeyboardInterrupt, GeneratorExit, NonFiniteLossError):
            self.result = self._finish(writer, interrupted=True)
            raise
        self.result = self._finish(writer, interrupted=False)

    @torch.no_grad()
    def final_output(self):
        """The picture as the run writes it: the drawer's export mapped to the palette and cleaned up."""
        return finalize(self.drawer.export(), self.settings)

    def _finish(self, writer: OutputWriter | None, interrupted: bool) -> RunResult:
        with deferred_interrupts(stopping=interrupted):  # a second Ctrl-C must not cut the files short
            output = self.final_output()
            if writer:
                return writer.finish(output, self.iteration, interrupted)
            return RunResult(output.image, output.sprite, None, [], self.seed, self.iteration, interrupted)

    def run(self, callback: Callable[[Progress], None] | None = None, every: int | None = None,
            write_files: bool = True) -> RunResult:
        """Run to the end (see `run_iter`); `callback` gets the progress reports. SIGTERM stops the run
        like Ctrl-C: the current picture and settings are written, then the exception propagates."""
        steps = self.run_iter(every, write_files)
        with terminate_as_interrupt(), closing(steps):  # closing: a callback's Ctrl-C still writes the outputs
            for progress in steps:
                if callback:
                    callback(progress)
        return self.result
