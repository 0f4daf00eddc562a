import torch
import torch.nn.functional as F

from ..palettes import parse_color
from .base import Loss, LossContext


def edge_margins(settings, height: int, width: int) -> tuple[int, int, int, int]:
    """(left, right, top, bottom) band widths: edge_margins, else edge_thickness on every side, else
    1/16 of the shorter side."""
    if settings.edge_margins is not None:
        return settings.edge_margins
    band = settings.edge_thickness if settings.edge_thickness is not None else max(1, min(height, width) // 16)
    return band, band, band, band


class EdgeLoss(Loss):
    """Pulls a border band towards `edge_color` (weight edge_color_weight): a frame, or a clean
    background behind a centred sprite; global_color_weight pulls the whole picture there too."""

    name = "edge"

    def __init__(self, settings, weight=1.0):
        super().__init__(settings, weight)
        self.color = torch.tensor(parse_color(settings.edge_color), dtype=torch.float32).view(1, 3, 1, 1) / 255

    def compute(self, ctx: LossContext):
        image = ctx.image
        color = self.color.to(image.device)
        height, width = image.shape[-2:]
        left, right, top, bottom = edge_margins(self.settings, height, width)
        mask = torch.zeros(height, width, dtype=torch.bool, device=image.device)
        mask[:, :left] = True
        mask[:, width - right:] = True
        mask[:top] = True
        mask[height - bottom:] = True
        loss = image.new_zeros(())
        if mask.any():
            loss = self.settings.edge_color_weight * (image - color).abs()[..., mask].mean()
        if self.settings.global_color_weight:
            loss = loss + self.settings.global_color_weight * F.l1_loss(image, color.expand_as(image))
        return loss
