"""Keras callbacks of the fit loop: early stopping with best weights, and the epoch log
that turns Keras' logs into one row per epoch for the listeners (imports Keras)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

from recexp.errors import ConfigError
from recexp.evaluation.options import is_ranking_metric
from recexp.training.events import EpochListener

if TYPE_CHECKING:
    from recexp.config import EarlyStopping

METRIC_WORDS = ("acc", "auc", "ndcg", "recall")


class EarlyStop(keras.callbacks.Callback):
    """Early stopping that remembers the best epoch and weights, and fails on a NaN loss."""

    def __init__(self, options: EarlyStopping | None, monitor_default: str = "loss") -> None:
        super().__init__()
        self.options = options
        self.monitor = options.monitor if options else monitor_default
        mode = options.mode if options else "min"
        if mode == "auto":
            higher = is_ranking_metric(self.monitor) or any(k in self.monitor for k in METRIC_WORDS)
            mode = "max" if higher else "min"
        self.sign = 1.0 if mode == "min" else -1.0
        self.best: float = math.inf
        self.best_epoch: int | None = None
        self.best_weights: list[np.ndarray] | None = None
        self.wait = 0
        self.stopped_early = False
        self.nan_epoch: int | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        loss = logs.get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.nan_epoch = epoch + 1
            self.model.stop_training = True
            return
        if self.monitor not in logs:
            raise ConfigError(
                "early stopping monitors a metric that training does not log; logged: "
                + ", ".join(sorted(logs)),
                key="training.early_stopping.monitor",
                got=self.monitor,
            )
        value = self.sign * float(logs[self.monitor])
        min_delta = self.options.min_delta if self.options else 0.0
        if value < self.best - min_delta or self.best_epoch is None:
            self.best, self.best_epoch, self.wait = value, epoch + 1, 0
            if self.options is not None and self.options.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.options is not None and self.wait >= self.options.patience:
            self.stopped_early = True
            self.model.stop_training = True

    @property
    def best_value(self) -> float | None:
        return None if self.best_epoch is None else self.sign * self.best

    def restore(self) -> None:
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class RankingLog(keras.callbacks.Callback):
    """Adds the validation ranking metrics to each epoch's logs (``val_ndcg@10``, ...),
    ahead of the epoch log and early stopping, which read them."""

    def __init__(self, rank: Callable[[Any], dict[str, float]], scorer: Callable[[], Any]):
        super().__init__()
        self.rank, self.scorer = rank, scorer

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is not None:
            logs.update({f"val_{name}": v for name, v in self.rank(self.scorer()).items()})


class EpochLog(keras.callbacks.Callback):
    """Builds each epoch's row, hands it to the listeners, and times the training phase."""

    def __init__(self, listeners: Sequence[EpochListener], lr_of: Callable[[], Any]) -> None:
        super().__init__()
        self.listeners = list(listeners)
        self.lr_of = lr_of
        self.rows: list[dict[str, Any]] = []
        self.train_seconds: list[float] = []

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._t0 = time.perf_counter()
        self._t_train: float | None = None

    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        if self._t_train is None:  # validation starts: the training phase is over
            self._t_train = time.perf_counter() - self._t0

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        seconds = time.perf_counter() - self._t0
        self.train_seconds.append(self._t_train if self._t_train is not None else seconds)
        row = {"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}}
        row["learning_rate"] = self.lr_of()
        row["seconds"] = round(seconds, 4)
        self.rows.append(row)
        for listener in self.listeners:
            listener.on_epoch(row)

    def ratings_per_second(self, n_train: int) -> float:
        """Steady-state throughput: the first epoch pays for tracing, so it is left out."""
        steady = self.train_seconds[1:] or self.train_seconds
        return n_train / float(np.median(steady)) if steady else 0.0
