"""CLIPDraw: coloured Bézier strokes on white paper, rendered by pixray's PyTorch rasteriser (no
diffvg) and exported as SVG besides the PNG."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from pixray.errors import SettingsError
from pixray.images import tensor_to_pil
from pixray.vector import patch_size, rasterize, to_svg

from .base import Drawer, DrawerOutput

SEGMENTS = 2          # cubic segments per stroke (7 control points)
PAPER = (1.0, 1.0, 1.0)


class ClipDrawDrawer(Drawer):
    default_learning_rate = 0.05
    optimise_style = True  # widths and colours are parameters (line_sketch fixes them)
    supports_reapply = False  # strokes start at random anchors: a picture cannot be redrawn into them
    anchor_spread = 1.0       # strokes start anywhere in this centred share of each side

    @classmethod
    def resolve_settings(cls, settings) -> None:
        if settings.min_stroke_width > settings.max_stroke_width:
            raise SettingsError(f"settings 'min_stroke_width' ({settings.min_stroke_width}) must not exceed "
                                f"'max_stroke_width' ({settings.max_stroke_width})")

    def __init__(self, settings, device, generator, models=None):
        super().__init__(settings, device, generator, models)
        self.width, self.height = settings.size
        self.radius = settings.stroke_length * max(self.width, self.height) / 2
        self.patch = patch_size(2 * self.radius, settings.max_stroke_width)
        count = settings.strokes
        self.control = torch.zeros(count, 3 * SEGMENTS + 1, 2, device=device, requires_grad=True)
        self.widths = torch.zeros(count, device=device, requires_grad=self.optimise_style)
        self.colors = torch.zeros(count, 4, device=device, requires_grad=self.optimise_style)
        self.paper = torch.tensor(PAPER, device=device)

    def _rand(self, *shape) -> torch.Tensor:
        return torch.rand(*shape, generator=self.generator)

    def init_from_image(self, image):
        count, points = self.control.shape[:2]
        size = torch.tensor([self.width, self.height], dtype=torch.float32)
        anchors = (0.5 + (self._rand(count, 1, 2) - 0.5) * self.anchor_spread) * size
        # A short random walk from each anchor: strokes start small and can grow up to stroke_length.
        steps = (self._rand(count, points - 1, 2) - 0.5) * (self.radius / 2)
        control = torch.cat([anchors, anchors + steps.cumsum(1)], 1)
        lo, hi = self.settings.min_stroke_width, self.settings.max_stroke_width
        widths = lo + self._rand(count) * (hi - lo)
        colors = torch.cat([self._rand(count, 3), 0.5 + 0.5 * self._rand(count, 1)], 1)
        if image is None and self.settings.init_noise == "paper":
            # Faint strokes, 0.1-0.3 opaque (the same draws, rescaled): a stroke stays only where the
            # perceptor asks for it. Started opaque, the embedded guide kept a few dark strokes it did
            # not ask for (a dark green slash beside two coloured hearts, MODEL_CARD.md).
            colors[:, 3] = 0.1 + 0.4 * (colors[:, 3] - 0.5)
        if image is not None:
            # Each stroke takes the init image's colour under its anchor, mixed by init_image_alpha.
            grid = (anchors / size * 2 - 1).view(1, count, 1, 2)
            sampled = F.grid_sample(image.float().cpu(), grid, align_corners=False)[0, :, :, 0].T
            alpha = self.settings.init_image_alpha / 255
            colors[:, :3] = alpha * sampled + (1 - alpha) * colors[:, :3]
            colors[:, 3] = 1.0
        self._set_style(widths, colors)
        with torch.no_grad():
            self.control.copy_(control.to(self.device))
        self.clamp()

    def _set_style(self, widths: torch.Tensor, colors: torch.Tensor) -> None:
        with torch.no_grad():
            self.widths.copy_(widths.to(self.device))
            self.colors.copy_(colors.to(self.device))

    def param_groups(self):
        lr = self.settings.learning_rate
        # Points move in pixels, so they get a larger step than widths and colours (units of 1).
        groups = [{"params": [self.control], "lr": lr * max(self.width, self.height) / 10}]
        if self.optimise_style:
            groups += [{"params": [self.widths], "lr": lr}, {"params": [self.colors], "lr": lr}]
        return groups

    def synth(self):
        return rasterize(self.control, self.widths, self.colors, (self.width, self.height), self.paper, self.patch)

    def clamp(self):
        with torch.no_grad():
            # Keep each stroke within stroke_length (so it fits its render patch) and on the canvas.
            centre = self.control.mean(1, keepdim=True)
            offset = self.control - centre
            scale = (self.radius / offset.norm(dim=-1, keepdim=True).clamp_min(1e-6)).clamp(max=1)
            self.control.copy_(centre + offset * scale)
            self.control[..., 0].clamp_(0, self.width)
            self.control[..., 1].clamp_(0, self.height)
            self.widths.clamp_(self.settings.min_stroke_width, self.settings.max_stroke_width)
            self.colors.clamp_(0, 1)
            if not self.settings.allow_paper_color:
                # No stroke as light as the paper: its darkest channel stays at or below 0.9.
                excess = (self.colors[:, :3].amin(1, keepdim=True) - 0.9).clamp_min(0)
                self.colors[:, :3] -= excess

    def export(self):
        with torch.no_grad():
            svg = to_svg(self.control, self.widths, self.colors, (self.width, self.height), PAPER)
            stem = Path(self.settings.output).stem
            return DrawerOutput(image=tensor_to_pil(self.synth()), files={f"{stem}.svg": svg.encode()})
