"""Ctrl-C and SIGTERM during a run: both stop training as KeyboardInterrupt, and neither
may cut the writing of the run directory short.

Exit codes follow the shell's convention: 130 after Ctrl-C (SIGINT), 143 after SIGTERM.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C."""


def exit_code(error: BaseException) -> int:
    return 143 if isinstance(error, Terminated) else 130


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated()


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Inside the block, SIGTERM raises :class:`Terminated` (a KeyboardInterrupt)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may handle signals
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def deferred_signals() -> Iterator[list[BaseException]]:
    """Hold Ctrl-C and SIGTERM back while the block runs (writing results); the list it
    yields holds what arrived, for the caller to raise once the block is done."""
    arrived: list[BaseException] = []

    def hold(signum: int, frame: Any) -> None:
        arrived.append(Terminated() if signum == signal.SIGTERM else KeyboardInterrupt())

    if threading.current_thread() is not threading.main_thread():
        yield arrived
        return
    previous = {s: signal.signal(s, hold) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield arrived
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
