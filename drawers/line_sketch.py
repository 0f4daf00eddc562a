"""Line sketch: black ink strokes of one width on white paper; only their shapes are optimised.

As in pixray's line_sketch, a few long strokes that start in the middle of the paper, not clipdraw's
hundreds of short ones: 256 strokes of ink fill a small canvas black (benchmarks/guide_quality.py)."""

from __future__ import annotations

import torch

from .clipdraw import ClipDrawDrawer


class LineSketchDrawer(ClipDrawDrawer):
    optimise_style = False
    anchor_spread = 0.5
    setting_defaults = {"strokes": 32, "stroke_length": 0.4}

    def _set_style(self, widths, colors):
        with torch.no_grad():
            self.widths.fill_(self.settings.max_stroke_width)
            self.colors.copy_(torch.tensor([0.0, 0.0, 0.0, 1.0]).expand_as(self.colors))
