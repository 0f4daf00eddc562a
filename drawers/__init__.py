"""Drawer registry. Built-ins load lazily; third-party drawers register under the entry-point
group ``pixray.drawers`` (``name = "package.module:DrawerClass"``)."""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from .base import Drawer, DrawerOutput

BUILTIN = {
    "pixel": "pixray.drawers.pixel:PixelDrawer",
    "vqgan": "pixray.drawers.vqgan:VQGANDrawer",
    "clipdraw": "pixray.drawers.clipdraw:ClipDrawDrawer",
    "line_sketch": "pixray.drawers.line_sketch:LineSketchDrawer",
    "sprite": "pixray.drawers.sprite:SpriteDrawer",
    "fft": "pixray.drawers.fft:FftDrawer",
}
# pixray drawers that need models this project cannot ship or load
UNAVAILABLE = {
    "vdiff": "pixray's vdiff drawer needs the v-diffusion-pytorch models and their multi-GB weights, which are "
             "not available here",
}


def available_drawers() -> dict[str, str]:
    """Every drawer name and where its class lives, built-ins first."""
    found = dict(BUILTIN)
    for ep in entry_points(group="pixray.drawers"):
        found.setdefault(ep.name, ep.value)
    return found


def drawer_class(name: str) -> type:
    """The drawer class for `name`; KeyError names the allowed values."""
    known = available_drawers()
    if name in UNAVAILABLE and name not in known:
        raise KeyError(f"{name!r}: {UNAVAILABLE[name]}; allowed: {', '.join(sorted(known))}")
    if name not in known:
        raise KeyError(f"{name!r} is not one of {', '.join(sorted(known))}")
    module, _, attr = known[name].partition(":")
    return getattr(importlib.import_module(module), attr)


__all__ = ["Drawer", "DrawerOutput", "available_drawers", "drawer_class"]
