"""Errors a user can act on. Their message is one line; the CLI prints it without a traceback."""


class PixrayError(Exception):
    """Base class for every error pixray raises on purpose."""


class SettingsError(PixrayError, ValueError):
    """A setting is unknown or has a value outside what it allows."""


class WeightsUnavailableError(PixrayError, RuntimeError):
    """Model weights are neither in the local cache nor downloadable."""
