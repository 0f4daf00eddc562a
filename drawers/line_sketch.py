"""Line sketch: black ink strokes of one width on white paper; only their shapes are optimised.

As in pixray's line_sketch, a few long strokes that start in the middle of the paper, not clipdraw's
hundreds of short ones: 256 strokes of ink fill a small canvas black (benchmarks/guide_quality.py).
With init_noise=outline (the default under the embedded guide) they start along the lines of the
guide's own picture of the prompt instead: the guide learned coloured emoji, and black strokes it
steers from random places pile into ink blots. Given an init image, they start along its lines."""

from __future__ import annotations

import torch

from pixray.errors import warn
from pixray.prompts import wanted_texts
from pixray.tracing import image_lines, placement, strokes_along

from .clipdraw import ClipDrawDrawer


class LineSketchDrawer(ClipDrawDrawer):
    optimise_style = False
    anchor_spread = 0.5
    shares_models = True  # the guide's sprite bank, for init_noise=outline
    setting_defaults = {"strokes": 32, "stroke_length": 0.4, "palette": "1bit"}

    def _set_style(self, widths, colors):
        with torch.no_grad():
            self.widths.fill_(self.settings.max_stroke_width)
            self.colors.copy_(torch.tensor([0.0, 0.0, 0.0, 1.0]).expand_as(self.colors))

    def init_from_image(self, image):
        super().init_from_image(image)  # random strokes (the draws keep a run's random numbers the same)
        if image is not None:
            # the picture's own lines; of the strokes, init_image_alpha's share starts on them, the
            # rest where they were
            lines = image_lines(image, self.settings.pixel_size, self.settings.max_stroke_width)
            self._start_on(lines, round(len(self.control) * self.settings.init_image_alpha / 255), "init_image")
        elif self.settings.init_noise == "outline":
            self._start_on(self._guide_lines(), len(self.control), "the guide's picture of the prompt")

    def _guide_lines(self):
        from pixray.guide.bank import load_sprite_bank, outline_target
        from pixray.perceptors import GUIDE_WEIGHTS

        prior, bank, guide = self.load_model(("sprite bank", str(GUIDE_WEIGHTS)),
                                             lambda: load_sprite_bank(GUIDE_WEIGHTS, "setting 'init_noise'"))
        return outline_target(bank, prior, GUIDE_WEIGHTS, guide, wanted_texts(self.settings.prompts))

    def _start_on(self, lines, count: int, source: str) -> None:
        """The first `count` strokes laid along the lines (a (rows, columns) grid placed on the picture)."""
        if count == 0:
            return
        cell, origin = placement((self.width, self.height), lines.shape)
        # a chain no longer than a stroke may reach (stroke_length across)
        control = strokes_along(lines, count, self.control.shape[1], cell, origin,
                                max_cells=int(2 * self.radius / cell))
        if control is None:
            warn(f"line_sketch: {source} has no lines; the strokes start at random places")
            return
        with torch.no_grad():
            self.control[:count] = control.to(self.device)
        self.clamp()
