"""pixray: text (and image) prompts → pixel art, guided by CLIP.

The public names load on first use, so `pixray --help` and input checks run without importing torch."""

from importlib import import_module

from .errors import PixrayError, PixrayWarning, SettingsError, WeightsUnavailableError
from .version import __version__

_LAZY = {
    "add_settings": "facade", "add_custom_loss": "facade", "apply_settings": "facade", "get_settings": "facade",
    "do_init": "facade", "do_run": "facade",
    "reset_settings": "facade", "run": "facade", "RunResult": "outputs", "Palette": "palettes",
    "load_palette": "palettes", "PixelArt": "pixelation", "pixelate": "pixelation", "Progress": "session",
    "Session": "session", "Settings": "settings", "batch": "batching",
}

__all__ = ["PixrayError", "PixrayWarning", "SettingsError", "WeightsUnavailableError", "__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module 'pixray' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
