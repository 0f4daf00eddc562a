"""Session: one optimisation run. It owns the drawer, perceptors, prompt losses, optimiser and RNG,
and holds the only loop (`iterate`); everything else (CLI, files, notebooks) consumes its progress."""

from __future__ import annotations

import hashlib
import secrets
from contextlib import closing
from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Iterator

import torch
import torch.nn.functional as F
from PIL import Image

from .cutouts import Cutouts
from .errors import NonFiniteLossError
from .export import choose_palette, finalize
from .losses import LossContext, build_losses, neighbour_differences
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
from .settings import Settings
from .signals import deferred_interrupts, terminate_as_interrupt


REFIT_EVERY = 10  # iterations between fits of the automatic palette (a fit takes milliseconds)


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


def seam_loss(image: torch.Tensor, grid: tuple[int, int] | None) -> torch.Tensor:
    """How much rougher the wrap-around seams are than the picture's inside, on the cell grid.
    Zero once the seams look like any other neighbour pair (the inside is not pushed)."""
    if grid is not None:
        image = F.adaptive_avg_pool2d(image, (grid[1], grid[0]))
    dx, dy = neighbour_differences(image, wrap=False)
    seam_x = (image[..., :, 0] - image[..., :, -1]).abs().mean()
    seam_y = (image[..., 0, :] - image[..., -1, :]).abs().mean()
    return F.relu(seam_x - dx.mean().detach()) + F.relu(seam_y - dy.mean().detach())


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
    def __init__(self, settings: Settings, model_cache: ModelCache | None = None):
        self.settings = settings
        self.device = pick_device(settings.device)
        self.seed = resolve_seed(settings.seed)
        self.generator = torch.Generator().manual_seed(self.seed)
        self.iteration = 0
        self.outdir = None  # set by run() once the output folder exists
        self.result: RunResult | None = None  # set when run() / run_iter() ends

        self.drawer = drawer_class(settings.drawer)(settings, self.device, self.generator)
        if settings.pixel_size is not None and not self.drawer.native_grid:
            self.drawer = PixelGrid(self.drawer, settings)
        init = load_image_tensor(settings.init_image, settings.size) if settings.init_image else None
        self.drawer.init_from_image(init)
        self.init_image = init.to(self.device) if init is not None else None
        self.palette = load_palette(settings.palette).tensor(self.device) if settings.palette else None
        # colors_fit=during: a sprite's `colors` are refitted as the picture changes and the soft palette
        # loss pulls towards them (measured no better than fitting at the end: benchmarks/pixel_quality.py).
        self.fits_palette = (self.palette is None and bool(settings.colors) and settings.pixel_size is not None
                             and settings.colors_fit == "during")
        self.custom_losses = build_losses(settings)
        if ((self.palette is not None or self.fits_palette) and settings.palette_mode == "soft"
                and settings.palette_weight > 0
                and not any(isinstance(loss, PaletteLoss) for loss in self.custom_losses)):
            self.custom_losses.append(PaletteLoss(settings, settings.palette_weight))

        # Image prompts are read once; each perceptor encodes them in _encode_prompts.
        self.image_prompts = [(p, pil_to_tensor(open_image(p.text, "image_prompts")).to(self.device))
                              for p in map(parse_prompt, settings.image_prompts)]
        cache = model_cache if model_cache is not None else ModelCache()
        self.perceptors: list[Perceptor] = [cache.get(parse_model_name(n), self.device)
                                            for n in settings.clip_models]
        self.cutouts = Cutouts(max(p.image_size for p in self.perceptors), settings.num_cuts,
                               max(p.min_cut_area for p in self.perceptors))
        self.prompt_losses = [self._encode_prompts(p) for p in self.perceptors]

        self.optimizer = torch.optim.Adam(self.drawer.param_groups(), lr=settings.learning_rate)
        self._drop_at = {max(1, round(settings.iterations * pct / 100)) for pct in settings.learning_rate_drops}

    def _encode_prompts(self, perceptor: Perceptor) -> list[tuple[str, PromptLoss]]:
        """Text and image prompts → one loss module each; each text batch is encoded once per run."""
        texts = [parse_prompt(p) for p in self.settings.prompts]
        losses = []
        if texts:
            embeddings = perceptor.encode_text([t.text for t in texts])
            losses += [(t.text, PromptLoss(e, t.weight, t.stop)) for t, e in zip(texts, embeddings)]
        for prompt, pixels in self.image_prompts:
            with torch.no_grad():
                embedding = perceptor.encode_image(pixels)
            losses.append((prompt.text, PromptLoss(embedding, prompt.weight, prompt.stop)))
        if self.init_image is not None and self.settings.init_clip_weight > 0:
            with torch.no_grad():
                embedding = perceptor.encode_image(self.init_image)
            losses.append(("init_image", PromptLoss(embedding, self.settings.init_clip_weight)))
        return [(f"{perceptor.spec.name}:{name}", loss.to(self.device)) for name, loss in losses]

    def step(self) -> dict[str, float]:
        """One optimisation step; returns the losses (total first)."""
        self.optimizer.zero_grad(set_to_none=True)
        image = self.drawer.synth()
        rgb = image[:, :3]
        view = self._random_roll(image) if self.settings.tile else image
        cuts = self.cutouts(view, self.generator)
        if cuts.shape[1] == 4:
            cuts = self._over_random_backgrounds(cuts)
        parts = {}
        for perceptor, prompt_losses in zip(self.perceptors, self.prompt_losses):
            embeddings = perceptor.encode_image(cuts)
            for name, loss in prompt_losses:
                parts[name] = loss(embeddings)
        if self.fits_palette and self.iteration % REFIT_EVERY == 0:
            self.palette = self._fit_palette(image.detach())
        context = LossContext(rgb, self.iteration, self.settings.iterations, self.palette, self.settings.tile)
        for loss in self.custom_losses:
            parts[loss.name] = loss(context)
        if self.settings.tile:
            parts["tile seam"] = seam_loss(rgb, self.settings.pixel_size)
        if self.init_image is not None and self.settings.init_weight > 0:
            distance = F.mse_loss if self.settings.init_loss == "mse" else F.l1_loss
            parts["init_image pixels"] = self.settings.init_weight * distance(rgb, self.init_image)
        total = torch.stack(list(parts.values())).sum()
        total.backward()
        self._check_finite(total, parts)  # before the step: the parameters stay the last good ones
        self.optimizer.step()
        self.drawer.clamp()
        self.iteration += 1
        if self.iteration in self._drop_at:
            for group in self.optimizer.param_groups:
                group["lr"] *= 0.1
        return {"total": float(total.detach()), **{name: float(value.detach()) for name, value in parts.items()}}

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

    def _random_roll(self, image: torch.Tensor) -> torch.Tensor:
        """Shift the picture circularly so the wrap-around seam lands inside the cutouts."""
        dy, dx = (int(torch.randint(0, n, (1,), generator=self.generator)) for n in image.shape[-2:])
        return image.roll((dy, dx), dims=(2, 3))

    def _over_random_backgrounds(self, cuts: torch.Tensor) -> torch.Tensor:
        """Composite RGBA cutouts over random solid colours: only opaque pixels carry the subject."""
        return over(cuts, torch.rand(cuts.shape[0], 3, 1, 1, generator=self.generator).to(cuts.device))

    def iterate(self, every: int | None = None) -> Iterator[Progress]:
        """Run to `settings.iterations`, yielding progress every `every` iterations and at the end."""
        every = self.settings.display_every if every is None else every
        total = self.settings.iterations
        if self.iteration >= total:
            yield Progress(self.iteration, total, {}, self)
        while self.iteration < total:
            losses = self.step()
            if (every and self.iteration % every == 0) or self.iteration == total:
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
                if (every and it % every == 0) or it == settings.iterations:
                    yield progress
        except (KeyboardInterrupt, GeneratorExit, NonFiniteLossError):
            self.result = self._finish(writer, interrupted=True)
            raise
        self.result = self._finish(writer, interrupted=False)

    def _finish(self, writer: OutputWriter | None, interrupted: bool) -> RunResult:
        with deferred_interrupts(stopping=interrupted):  # a second Ctrl-C must not cut the files short
            output = finalize(self.drawer.export(), self.settings)
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
