import torch

from ..palettes import parse_color
from .base import Loss, LossContext


class EdgeLoss(Loss):
    """Pulls a border band (1/16 of the shorter side) towards `edge_color`: a frame, or a clean
    background behind a centred sprite."""

    name = "edge"

    def __init__(self, settings, weight=1.0):
        super().__init__(settings, weight)
        self.color = torch.tensor(parse_color(settings.edge_color), dtype=torch.float32).view(1, 3, 1, 1) / 255

    def compute(self, ctx: LossContext):
        image = ctx.image
        height, width = image.shape[-2:]
        band = max(1, min(height, width) // 16)
        mask = torch.ones(height, width, dtype=torch.bool, device=image.device)
        mask[band:-band, band:-band] = False
        return (image - self.color.to(image.device)).abs()[..., mask].mean()
