"""pixray's wallpaper: a picture that repeats. Each step the cutouts see the repeat (one copy, or the
unit the type builds) shifted circularly by a random amount, and a seam loss makes the wrap-around
seams no rougher than the inside of the picture.

wallpaper_type: tile (repeats left-right and top-bottom), horizontal (left-right only), shift (rows of
copies offset by half a width, as bricks; pixray's wallpaper_shift), mirror (repeats mirrored, so the
seams meet themselves). wallpaper_edge_match: pixray's extra loss making the first and last N pixel
columns (and rows, except for horizontal) alike.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from pixray.losses.base import neighbour_differences

from .base import Filter

TYPES = ("tile", "horizontal", "shift", "mirror")


def half_shift(width: int, cells_w: int | None) -> int:
    """Half the width, rounded to whole cells so that a shifted row still lands on the grid."""
    if not cells_w:
        return width // 2
    return (cells_w // 2) * width // cells_w


def seam_loss(image: torch.Tensor, grid: tuple[int, int] | None, vertical: bool = True,
              shift: int = 0) -> torch.Tensor:
    """How much rougher the wrap-around seams are than the picture's inside, on the cell grid. Zero
    once the seams look like any other neighbour pair (the inside is not pushed). `shift`: the row
    below a copy starts `shift` pixels along (bricks)."""
    width = image.shape[-1]
    if grid is not None:
        image = F.adaptive_avg_pool2d(image, (grid[1], grid[0]))
        shift = round(shift * grid[0] / width)
    dx, dy = neighbour_differences(image, wrap=False)
    seam = F.relu((image[..., :, 0] - image[..., :, -1]).abs().mean() - dx.mean().detach())
    if vertical:
        below = image[..., 0, :].roll(shift, dims=-1)
        seam = seam + F.relu((below - image[..., -1, :]).abs().mean() - dy.mean().detach())
    return seam


def edge_match_loss(image: torch.Tensor, pixels: int, vertical: bool) -> torch.Tensor:
    """pixray's wallpaper_edge_match: the first and last `pixels` columns (and rows) alike."""
    loss = F.mse_loss(image[..., :, :pixels], image[..., :, -pixels:])
    if vertical:
        loss = loss + F.mse_loss(image[..., :pixels, :], image[..., -pixels:, :])
    return loss * 100 / pixels


class WallpaperFilter(Filter):
    name = "wallpaper"

    def __call__(self, image):
        kind, settings = self.settings.wallpaper_type, self.settings
        rgb = image[:, :3]
        vertical = kind != "horizontal"
        cells_w = settings.pixel_size[0] if settings.pixel_size else None
        shift = half_shift(image.shape[-1], cells_w) if kind == "shift" else 0
        loss = None if kind == "mirror" else seam_loss(rgb, settings.pixel_size, vertical, shift)
        if settings.wallpaper_edge_match:
            loss = (0 if loss is None else loss) + edge_match_loss(rgb, settings.wallpaper_edge_match, vertical)
        if kind == "shift":
            image = torch.cat([image, image.roll(shift, dims=3)], dim=2)
        elif kind == "mirror":
            image = torch.cat([image, image.flip(3)], dim=3)
            image = torch.cat([image, image.flip(2)], dim=2)
        height, width = image.shape[-2:]
        dy = self._randint(height) if vertical else 0
        return image.roll((dy, self._randint(width)), dims=(2, 3)), loss
