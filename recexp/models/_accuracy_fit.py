"""The epoch loop shared by the accuracy families (autorec, svdpp, glocal_k).

Each family supplies one training epoch and a validation predictor; this loop reports
every epoch to the listeners as ``{epoch, loss, rmse, val_rmse, val_mae, learning_rate,
seconds}``, early-stops on the monitored key with restore-best, stops on a NaN loss, and
turns a listener's ``StopTraining`` into ``pruned`` and Ctrl-C into ``interrupted`` (best
state restored in every case). When the redesign's ``recexp.training`` lands, the families
can hand the same two callables to its loop instead.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from recexp.models._protocol_stub import EpochListener, FitResult, StopTraining


def errors(pred: np.ndarray, truth: np.ndarray, lo: float, hi: float) -> tuple[float, float]:
    """RMSE and MAE of predictions clipped to [lo, hi]."""
    if len(truth) == 0:
        return math.nan, math.nan
    err = np.clip(pred, lo, hi) - truth
    return float(np.sqrt(np.mean(err**2))), float(np.mean(np.abs(err)))


class EpochLoop:
    """Runs epochs until ``max_epochs`` or early stopping; keeps the best state."""

    def __init__(
        self,
        listeners: Sequence[EpochListener],
        early_stopping: Any,  # recexp.config.EarlyStopping | None
        n_ratings: int,
    ) -> None:
        self.listeners = list(listeners)
        self.early = early_stopping
        self.monitor = early_stopping.monitor if early_stopping is not None else "val_rmse"
        self.n_ratings = n_ratings
        self.result = FitResult()
        self.best = math.inf
        self.best_state: Any = None
        self._train_seconds = 0.0
        self._epochs_trained = 0

    def run(
        self,
        max_epochs: int,
        epoch: Callable[[int], dict[str, float]],
        validate: Callable[[], tuple[float, float]],
        get_state: Callable[[], Any],
        set_state: Callable[[Any], None],
        *,
        select: bool = True,
    ) -> FitResult:
        """``epoch(n)`` trains once and returns loss/rmse/learning_rate; ``validate()`` gives
        (val_rmse, val_mae). ``select=False`` (a pre-training phase) reports epochs but
        neither early-stops nor keeps a best state."""
        wait = 0
        try:
            for _ in range(max_epochs):
                n = len(self.result.history) + 1
                t0 = time.perf_counter()
                logs = epoch(n)
                t_train = time.perf_counter() - t0
                val_rmse, val_mae = validate()
                row = {
                    "epoch": float(n),
                    "loss": float(logs.get("loss", math.nan)),
                    "rmse": float(logs.get("rmse", math.nan)),
                    "val_rmse": val_rmse,
                    "val_mae": val_mae,
                    "learning_rate": float(logs.get("learning_rate", math.nan)),
                    "seconds": round(time.perf_counter() - t0, 4),
                }
                self.result.history.append(row)
                self._train_seconds += t_train
                self._epochs_trained += 1
                if not math.isfinite(row["loss"]):
                    self.result.stopped_early = True
                    break
                stop = False
                if select:
                    value = row.get(self.monitor, math.nan)
                    if not math.isfinite(value):  # no validation rows: keep the last epoch
                        value = -float(n)
                    min_delta = self.early.min_delta if self.early is not None else 0.0
                    if value < self.best - min_delta or self.result.best_epoch is None:
                        self.best, wait = value, 0
                        self.result.best_epoch, self.result.best_value = n, row.get(self.monitor)
                        self.best_state = get_state()
                    else:
                        wait += 1
                        stop = self.early is not None and wait >= self.early.patience
                for listener in self.listeners:
                    listener.on_epoch(row)
                if stop:
                    self.result.stopped_early = True
                    break
        except StopTraining:
            self.result.pruned = True
        except KeyboardInterrupt:
            self.result.interrupted = True
        restore = self.early is None or self.early.restore_best_weights
        if select and restore and self.best_state is not None:
            set_state(self.best_state)
        self.result.train_seconds = self._train_seconds
        self.result.ratings_per_second = (
            self.n_ratings * self._epochs_trained / self._train_seconds
            if self._train_seconds
            else 0.0
        )
        return self.result

    @property
    def halted(self) -> bool:
        """Pruned or interrupted: later phases should not run."""
        return self.result.pruned or self.result.interrupted
