"""The run interface tune codes against (PLAN.md), over today's ``run_experiment``.

The redesign gives ``run_experiment(config, runs_root, *, display, quiet, listeners)``:
each listener's ``on_epoch(row)`` sees every epoch's row, and a listener raising
``recexp.training.StopTraining`` ends the run as ``pruned`` (history kept, metrics
written). Until that lands, :func:`run_with_listeners` emulates it: the rows come through
the display, a stop is raised as a Ctrl-C (which today's fit turns into "interrupted",
best weights kept, metrics written), and the run's status and metrics are then relabelled
``pruned``. Once ``run_experiment`` takes ``listeners``, the emulation is bypassed; delete
this module's fallback half then.
"""

from __future__ import annotations

import inspect
import json
import signal
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from recexp.display import Display


class EpochListener(Protocol):
    def on_epoch(self, row: dict[str, float]) -> None: ...


def _stop_training() -> type[Exception]:
    try:  # the redesign's: recexp/training/__init__.py, no Keras import
        from recexp.training import StopTraining  # type: ignore[attr-defined]

        return StopTraining  # type: ignore[no-any-return]
    except ImportError:
        return _StopTraining


class _StopTraining(Exception):
    """A listener's request to end training (e.g. an Optuna pruner): the run is ``pruned``."""

    def __init__(self, reason: str = "stopped by a listener") -> None:
        super().__init__(reason)
        self.reason = reason


def stop_training(reason: str) -> Exception:
    """The run's StopTraining exception, for a listener to raise."""
    return _stop_training()(reason)


def is_stop(error: BaseException) -> bool:
    return isinstance(error, _stop_training())


def run_with_listeners(
    config: Any,
    runs_root: str | Path,
    *,
    display: Display | None = None,
    quiet: bool = False,
    listeners: Sequence[EpochListener] = (),
) -> Any:
    """``run_experiment`` with epoch listeners; returns the run directory (a RunDir)."""
    from recexp import experiment

    if threading.current_thread() is not threading.main_thread():
        _no_signal_handlers(experiment)  # e.g. a Ray function trainable's thread
    run_experiment: Any = experiment.run_experiment
    if "listeners" in inspect.signature(run_experiment).parameters:
        return run_experiment(
            config, runs_root, display=display, quiet=quiet, listeners=list(listeners)
        )
    listening = _ListeningDisplay(listeners, quiet=True if display is None else display.quiet)
    run = run_experiment(config, runs_root, display=listening)
    if listening.stopped is not None:
        _relabel_pruned(run.path, listening.stopped)
    return run


def _no_signal_handlers(module: Any) -> None:
    """``run_experiment`` turns SIGTERM into "interrupted" with ``signal.signal``, which
    Python allows only in the main thread; off it (a Ray task's thread) the handler is
    skipped. For the process running trials off its main thread only (a Ray worker)."""
    if isinstance(getattr(module, "signal", None), _NoSignals):
        return
    module.signal = _NoSignals(signal)


class _NoSignals:
    def __init__(self, real: Any) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def signal(self, signum: int, handler: Any) -> Any:
        if threading.current_thread() is threading.main_thread():
            return self._real.signal(signum, handler)
        return self._real.getsignal(signum)


class _Pruned(KeyboardInterrupt):
    """How the emulation stops today's fit loop (it keeps the best weights on Ctrl-C)."""


class _ListeningDisplay(Display):
    def __init__(self, listeners: Sequence[EpochListener], quiet: bool) -> None:
        super().__init__(quiet=quiet)
        self.listeners = list(listeners)
        self.stopped: str | None = None

    def epoch(self, row: dict[str, Any]) -> None:
        super().epoch(row)
        if self.stopped is not None:
            return
        for listener in self.listeners:
            try:
                listener.on_epoch(row)
            except Exception as error:
                if not is_stop(error):
                    raise
                self.stopped = getattr(error, "reason", None) or str(error)
                raise _Pruned() from None


def _relabel_pruned(path: Path, reason: str) -> None:
    from recexp.runs import METRICS_FILE, RunDir

    run = RunDir(path)
    if (path / METRICS_FILE).exists():
        metrics = json.loads((path / METRICS_FILE).read_text())
        metrics.update(interrupted=False, pruned=True)
        run.write_json(METRICS_FILE, metrics)
    run.set_status("pruned", reason=reason)
