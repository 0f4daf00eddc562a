"""pixray: text (and image) prompts → pixel art, guided by CLIP."""

from .errors import PixrayError, SettingsError, WeightsUnavailableError
from .facade import add_settings, apply_settings, do_init, do_run, reset_settings, run
from .outputs import RunResult
from .palettes import Palette, load_palette
from .pixelate import PixelArt, pixelate
from .session import Progress, Session
from .settings import Settings
from .version import __version__

__all__ = [
    "PixrayError", "SettingsError", "WeightsUnavailableError", "Progress", "RunResult", "Session", "Settings",
    "Palette", "PixelArt", "__version__", "add_settings", "load_palette", "pixelate",
    "apply_settings", "do_init", "do_run", "reset_settings", "run",
]
