"""Line sketch: black ink strokes of one width on white paper; only their shapes are optimised."""

from __future__ import annotations

import torch

from .clipdraw import ClipDrawDrawer


class LineSketchDrawer(ClipDrawDrawer):
    optimise_style = False

    def _set_style(self, widths, colors):
        with torch.no_grad():
            self.widths.fill_(self.settings.max_stroke_width)
            self.colors.copy_(torch.tensor([0.0, 0.0, 0.0, 1.0]).expand_as(self.colors))
