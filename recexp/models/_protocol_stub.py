"""Stand-in for the redesign's ``recexp.models.protocol`` / ``recexp.training`` faces.

The accuracy families (autorec, svdpp, glocal_k) are written against the Recommender
protocol of PLAN.md (issue 11). Until the redesign lands, this module provides the few
names they need, with the same field names, so that the families can be fitted,
evaluated and tested on their own. The lead replaces imports of this module with the
real ``recexp.models.protocol`` and ``recexp.training`` and deletes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np


class EpochListener(Protocol):
    def on_epoch(self, row: dict[str, float]) -> None:
        """row: epoch, loss, rmse, val_rmse, val_mae, learning_rate, seconds."""


class StopTraining(Exception):
    """Raised by a listener to end training (e.g. an Optuna pruner)."""

    def __init__(self, reason: str = "stopped by a listener") -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class FitResult:
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int | None = None
    best_value: float | None = None
    stopped_early: bool = False
    interrupted: bool = False
    pruned: bool = False
    train_seconds: float = 0.0
    ratings_per_second: float = 0.0


@dataclass
class TrainData:
    """Everything fit may use, arrays only (codes of train users/items; training units)."""

    user: np.ndarray
    item: np.ndarray
    rating: np.ndarray
    val_user: np.ndarray
    val_item: np.ndarray
    val_rating: np.ndarray
    n_users: int
    n_items: int
    options: Any  # recexp.config.TrainingOptions
    optimizer: Any  # recexp.optim.OptimizerOptions
    seed: int = 42


@dataclass
class ModelSummary:
    text: str
    data: dict[str, Any]


class Recommender:
    """The subset of the protocol the accuracy families implement."""

    optimizer_label: str = ""

    def fit(self, data: TrainData, listeners: Sequence[EpochListener] = ()) -> FitResult:
        raise NotImplementedError

    def predict(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def save(self, directory: Path) -> None:
        raise NotImplementedError

    @classmethod
    def load(cls, directory: Path) -> Recommender:
        raise NotImplementedError

    def summary(self) -> ModelSummary:
        raise NotImplementedError

    def extra_metrics(self, test: Any) -> dict[str, Any] | None:
        return None
