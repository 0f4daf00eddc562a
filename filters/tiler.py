"""pixray's tiler: the cutouts see the picture shifted circularly by a random amount each step, so
nothing can depend on where the borders are; the picture ends up tiling seamlessly."""

from __future__ import annotations

from .base import Filter


class TilerFilter(Filter):
    name = "tiler"

    def __call__(self, image):
        height, width = image.shape[-2:]
        return image.roll((self._randint(height), self._randint(width)), dims=(2, 3)), None
