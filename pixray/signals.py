"""Stopping a run cleanly: SIGTERM (kill, Docker, cog, batch schedulers) is handled like Ctrl-C, and
neither signal can cut the writing of the outputs short. Only the main thread can own signals; elsewhere
these helpers do nothing."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C's KeyboardInterrupt would be, so one code path writes the outputs."""


def _raise_terminated(signum, frame):
    raise Terminated()


def in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def terminate_as_interrupt():
    """Within the block SIGTERM raises Terminated, unless someone else already handles SIGTERM."""
    if not in_main_thread() or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextmanager
def deferred_interrupts(stopping: bool):
    """Ctrl-C and SIGTERM wait until the block (writing the outputs) ends. If the run is already
    `stopping`, a second signal is dropped; otherwise it is raised once the block is done."""
    if not in_main_thread():
        yield
        return
    caught: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: caught.append(signum))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if caught and not stopping:
        raise Terminated() if caught[0] == signal.SIGTERM else KeyboardInterrupt()
