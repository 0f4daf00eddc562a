"""Line sketch: black ink strokes of one width on white paper; only their shapes are optimised.

As in pixray's line_sketch, a few long strokes that start in the middle of the paper, not clipdraw's
hundreds of short ones: 256 strokes of ink fill a small canvas black (benchmarks/guide_quality.py).
With init_noise=outline (the default under the embedded guide) they start along the lines of the
guide's own picture of the prompt instead: the guide learned coloured emoji, and black strokes it
steers from random places pile into ink blots."""

from __future__ import annotations

import torch

from pixray.errors import warn
from pixray.prompts import wanted_texts
from pixray.tracing import placement, strokes_along

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
        if image is None and self.settings.init_noise == "outline":
            self._start_on_lines()

    def _start_on_lines(self) -> None:
        from pixray.guide.bank import load_sprite_bank, outline_target
        from pixray.perceptors import GUIDE_WEIGHTS

        prior, bank, guide = self.load_model(("sprite bank", str(GUIDE_WEIGHTS)),
                                             lambda: load_sprite_bank(GUIDE_WEIGHTS, "setting 'init_noise'"))
        lines = outline_target(bank, prior, GUIDE_WEIGHTS, guide, wanted_texts(self.settings.prompts))
        cell, origin = placement((self.width, self.height), lines.shape)
        count, points = self.control.shape[:2]
        # a chain no longer than a stroke may reach (stroke_length across)
        control = strokes_along(lines, count, points, cell, origin, max_cells=int(2 * self.radius / cell))
        if control is None:
            warn("setting 'init_noise': the guide's picture of the prompt has no lines; the strokes start at "
                 "random places")
            return
        with torch.no_grad():
            self.control.copy_(control.to(self.device))
        self.clamp()
