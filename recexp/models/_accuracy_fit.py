"""The epoch loop shared by the accuracy families (autorec, svdpp, glocal_k).

Each family supplies one training epoch and a validation predictor; this loop reports
every epoch to the listeners as the Keras families' fit does (``epoch``, ``loss``,
``rmse``, ``mae``, ``val_loss``, ``val_rmse``, ``val_mae``, ``learning_rate``,
``seconds``), early-stops on the monitored key with restore-best, fails on a NaN loss
(as :func:`recexp.training.fit.fit`), and turns a listener's ``StopTraining`` into
``pruned`` and Ctrl-C into ``interrupted`` (best state restored in every case).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from recexp.errors import TrainingError
from recexp.training.events import (
    EpochListener,
    FitResult,
    StopTraining,
    TrainData,
    error_logs,
)


class EpochLoop:
    """Runs epochs until ``max_epochs`` or early stopping; keeps the best state."""

    def __init__(self, listeners: Sequence[EpochListener], data: TrainData) -> None:
        self.listeners = list(listeners)
        self.data = data
        self.early = data.options.early_stopping
        self.monitor = self.early.monitor if self.early is not None else "loss"
        self.result = FitResult()
        self.best = math.inf
        self.best_state: Any = None
        self.wait = 0
        self._train_seconds: list[float] = []

    def run(
        self,
        max_epochs: int,
        epoch: Callable[[int], dict[str, Any]],
        validate: Callable[[], np.ndarray],
        get_state: Callable[[], Any],
        set_state: Callable[[Any], None],
        *,
        select: bool = True,
    ) -> FitResult:
        """``epoch(n)`` trains once and returns ``loss``, ``rmse``, ``mae``,
        ``learning_rate``; ``validate()`` predicts the validation pairs (clipped).
        ``select=False`` (a pre-training phase) reports epochs but neither early-stops nor
        keeps a best state."""
        try:
            for _ in range(max_epochs):
                row = self._epoch(epoch, validate)
                stop = self._select(row, get_state) if select else False
                for listener in self.listeners:
                    listener.on_epoch(row)
                if stop:
                    self.result.stopped_early = True
                    break
        except StopTraining as stopped:
            self.result.pruned = stopped.reason
        except KeyboardInterrupt as signal:
            self.result.interrupted, self.result.interrupt = True, signal
        restore = self.early is None or self.early.restore_best_weights
        if select and restore and self.best_state is not None:
            set_state(self.best_state)
        self.result.train_seconds = float(sum(self._train_seconds))
        steady = self._train_seconds[1:] or self._train_seconds  # the first epoch traces
        self.result.ratings_per_second = len(self.data) / float(np.median(steady)) if steady else 0
        return self.result

    def _epoch(
        self, epoch: Callable[[int], dict[str, Any]], validate: Callable[[], np.ndarray]
    ) -> dict[str, Any]:
        n = len(self.result.history) + 1
        t0 = time.perf_counter()
        logs = epoch(n)
        self._train_seconds.append(time.perf_counter() - t0)
        if not math.isfinite(float(logs["loss"])):
            raise TrainingError(
                f"loss became NaN at epoch {n}; lower optimizer.learning_rate "
                "or the model's regularisation",
                key="optimizer.learning_rate",
                got=self.data.optimizer.learning_rate,
            )
        row: dict[str, Any] = {"epoch": n, **{k: float(logs[k]) for k in ("loss", "rmse", "mae")}}
        if self.data.has_validation:
            err = validate() - self.data.val_rating
            row.update(error_logs(err, self.data.options.loss, prefix="val_"))
        row["learning_rate"] = logs.get("learning_rate")
        row["seconds"] = round(time.perf_counter() - t0, 4)
        self.result.history.append(row)
        return row

    def _select(self, row: dict[str, Any], get_state: Callable[[], Any]) -> bool:
        """Remember a new best epoch; True when early stopping ends training."""
        value = row.get(self.monitor, math.nan)
        if not math.isfinite(value):  # no validation rows: keep the last epoch
            value = -float(row["epoch"])
        min_delta = self.early.min_delta if self.early is not None else 0.0
        if value < self.best - min_delta or self.result.best_epoch is None:
            self.best, self.wait = value, 0
            self.result.best_epoch, self.result.best_value = row["epoch"], row.get(self.monitor)
            self.best_state = get_state()
            return False
        self.wait += 1
        return self.early is not None and self.wait >= self.early.patience

    @property
    def halted(self) -> bool:
        """Pruned or interrupted: later phases should not run."""
        return bool(self.result.pruned) or self.result.interrupted


def epoch_logs(loss: Any, sq_sum: Any, abs_sum: Any, n: Any, lr: float | None) -> dict[str, Any]:
    """An epoch's ``loss``, ``rmse``, ``mae`` from summed squared and absolute errors."""
    n = max(float(n), 1.0)
    return {
        "loss": float(loss),
        "rmse": math.sqrt(float(sq_sum) / n),
        "mae": float(abs_sum) / n,
        "learning_rate": lr,
    }
