"""pixray's module-level API (reset_settings / add_settings / apply_settings / do_init / do_run / run).

The only module state in the package lives here: the settings being collected, the last session,
and the CLIP models kept across runs."""

from __future__ import annotations

from typing import Callable

from PIL import Image

from .display import NotebookDisplay, in_notebook
from .errors import SettingsError
from .losses import LOSSES, Loss
from .perceptors import ModelCache
from .session import Progress, Session
from .settings import Settings, normalise, resolve


class _State:
    def __init__(self):
        self.values: dict = {}
        self.session: Session | None = None
        self.models = ModelCache()
        self.losses = dict(LOSSES)  # the built-in losses and those add_custom_loss registered


_state = _State()


def reset_settings() -> None:
    """Forget every setting added so far (models stay cached)."""
    _state.values = {}
    _state.session = None


def add_settings(**kwargs) -> None:
    """Merge settings; later calls win. Unknown names and bad values raise SettingsError at once.
    pixray's `skip_args=True` (do not read the command line) is accepted: this API never reads it."""
    kwargs.pop("skip_args", None)
    _state.values.update(normalise(kwargs))


def get_settings() -> dict:
    """The settings added so far (canonical names, parsed values), as pixray's get_settings gave them."""
    return dict(_state.values)


def apply_settings() -> Settings:
    """Validate what was added and resolve presets into a complete Settings."""
    return resolve(_state.values, _state.losses)


def do_init(settings: Settings) -> Session:
    """Load models and start a session for `settings`."""
    _state.session = Session(settings, _state.models, _state.losses)
    return _state.session


def add_custom_loss(name: str, loss_class: type) -> None:
    """Make `custom_loss="name:weight"` use `loss_class`: a pixray.losses.Loss subclass, or a loss written
    for pixray 1.9 (a class with get_loss(cur_cutouts, out, args, ...)), wrapped to fit."""
    from .losses.adapter import adapt_pixray_loss

    if isinstance(loss_class, type) and issubclass(loss_class, Loss):
        _state.losses[name.lower()] = type(loss_class.__name__, (loss_class,), {"name": name.lower()})
    elif isinstance(loss_class, type) and callable(getattr(loss_class, "get_loss", None)):
        _state.losses[name.lower()] = adapt_pixray_loss(name.lower(), loss_class)
    else:
        raise SettingsError(f"add_custom_loss: {loss_class!r} is neither a pixray.losses.Loss subclass nor a "
                            f"class with pixray's get_loss(cur_cutouts, out, args, globals, lossGlobals)")


def do_run(settings: Settings, callback: Callable[[Progress], None] | None = None) -> Image.Image:
    """Run the session started by do_init (starting one if needed); write outputs; return the image.
    In a notebook, with no callback given, the picture is shown and updated every display_every."""
    session = _state.session
    if session is None or session.settings is not settings:
        session = do_init(settings)
    if callback is None and in_notebook() and settings.display_every:
        callback = NotebookDisplay(settings.iterations)
    return session.run(callback=callback).image


def run(prompts=None, drawer=None, *, callback: Callable[[Progress], None] | None = None,
        **settings) -> Image.Image:
    """One call: `pixray.run("a red apple", "pixel", iterations=100)` → the final PIL image."""
    values = dict(settings)
    if prompts is not None:
        values["prompts"] = prompts
    if drawer is not None:
        values["drawer"] = drawer
    reset_settings()
    add_settings(**values)
    resolved = apply_settings()
    do_init(resolved)
    return do_run(resolved, callback=callback)
