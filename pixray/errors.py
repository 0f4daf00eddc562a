"""Errors a user can act on. Their message is one line; the CLI prints it without a traceback."""


class PixrayError(Exception):
    """Base class for every error pixray raises on purpose."""


class SettingsError(PixrayError, ValueError):
    """A setting is unknown or has a value outside what it allows."""


class WeightsUnavailableError(PixrayError, RuntimeError):
    """Model weights are neither in the local cache nor downloadable."""


class PixrayWarning(UserWarning):
    """Something pixray did differently from what the settings might suggest; the run goes on."""


def warn(message: str) -> None:
    """One line about a setting that is allowed but probably not what the user meant."""
    import warnings
    warnings.warn(message, PixrayWarning, stacklevel=3)


class NonFiniteLossError(PixrayError, ArithmeticError):
    """The loss or its gradients stopped being finite numbers; the last good picture is kept."""
