"""pixray's colour lookup: the cutouts see every pixel snapped to its nearest palette colour (chosen as
the export chooses it: palette_space), while the gradient passes straight through to the free colours
(as a VQ codebook); a commitment loss of weight `lookup_beta` pulls the free colours onto the palette so
that the two agree."""

from __future__ import annotations

import torch

from pixray.losses.palette import loop_space, nearest_palette_index
from pixray.palettes import load_palette

from .base import Filter


class LookupFilter(Filter):
    name = "lookup"

    def __init__(self, settings, generator):
        super().__init__(settings, generator)
        self.palette = load_palette(settings.palette).tensor(torch.device("cpu"))
        self.space = loop_space(settings)

    def __call__(self, image):
        rgb = image[:, :3]
        palette = self.palette.to(image.device)
        index = nearest_palette_index(rgb.permute(0, 2, 3, 1).reshape(-1, 3), palette, self.space)
        snapped = palette[index].reshape(rgb.shape[0], rgb.shape[2], rgb.shape[3], 3).permute(0, 3, 1, 2)
        loss = self.settings.lookup_beta * (rgb - snapped).square().mean()
        out = rgb + (snapped - rgb).detach()  # forward: the palette colour; backward: identity
        return torch.cat([out, image[:, 3:]], dim=1), loss
