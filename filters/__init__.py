"""Filter registry: a filter sits between the drawer's picture and the cutouts (settings.filters,
pixray's `filters: wallpaper,lookup`)."""

from __future__ import annotations

import importlib

from .base import Filter

BUILTIN = {
    "wallpaper": "pixray.filters.wallpaper:WallpaperFilter",
    "tiler": "pixray.filters.tiler:TilerFilter",
    "lookup": "pixray.filters.lookup:LookupFilter",
}


def filter_class(name: str) -> type[Filter]:
    """The filter class for `name`; KeyError names the allowed values."""
    if name not in BUILTIN:
        raise KeyError(f"{name!r} is not one of {', '.join(BUILTIN)}")
    module, _, attr = BUILTIN[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def build_filters(settings, generator) -> list[Filter]:
    return [filter_class(name)(settings, generator) for name in settings.filters]


__all__ = ["BUILTIN", "Filter", "build_filters", "filter_class"]
