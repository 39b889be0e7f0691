"""What a fit takes and gives back, and the per-epoch events (numpy only, no Keras).

Every family's ``fit`` reports each epoch as one row (``epoch``, ``loss``, ``rmse``,
``mae``, ``val_loss``, ``val_rmse``, ``val_mae``, ``learning_rate``, ``seconds``) to its
listeners: the history file, the live display, trackers, a tuner's pruner. A listener
that raises :class:`StopTraining` ends the fit early (a pruned trial); the best weights
seen so far are kept, as for early stopping.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from recexp.config import TrainingOptions
    from recexp.training.optimizers import OptimizerOptions


class EpochListener(Protocol):
    """Receives each finished epoch's row."""

    def on_epoch(self, row: dict[str, Any]) -> None: ...


class StopTraining(Exception):  # noqa: N818 (a signal, not an error)
    """Raised by a listener to end training now (e.g. a pruned tuning trial)."""

    def __init__(self, reason: str = "stopped by a listener") -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class TrainData:
    """Everything a family's fit may use: code arrays and ratings in training units.

    ``val_*`` hold only validation rows whose user and item were seen in training.
    """

    user: np.ndarray
    item: np.ndarray
    rating: np.ndarray
    val_user: np.ndarray
    val_item: np.ndarray
    val_rating: np.ndarray
    n_users: int
    n_items: int
    options: TrainingOptions
    optimizer: OptimizerOptions
    seed: int = 0
    title: str = ""
    #: ``f(scorer) -> {"ndcg@10": ...}`` on the validation users, when early stopping
    #: monitors a ranking metric (the fit logs it each epoch as ``val_<name>``)
    val_ranking: Any = None

    def __len__(self) -> int:
        return len(self.rating)

    @property
    def has_validation(self) -> bool:
        return len(self.val_rating) > 0


@dataclass
class FitResult:
    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int | None = None
    best_value: float | None = None
    stopped_early: bool = False
    interrupted: bool = False
    interrupt: BaseException | None = None  # the Ctrl-C or SIGTERM that stopped it
    pruned: str | None = None  # the reason a listener stopped training, if one did
    train_seconds: float = 0.0
    ratings_per_second: float = 0.0


def one_epoch_fit(row: dict[str, Any], listeners: Any, seconds: float, n_train: int) -> FitResult:
    """A model fitted in one closed-form "epoch": ``row`` told to the listeners, and the
    result the runner reads (best epoch 1, throughput over the fit's seconds)."""
    for listener in listeners:
        listener.on_epoch(row)
    return FitResult(
        history=[row],
        best_epoch=1,
        train_seconds=seconds,
        ratings_per_second=n_train / max(seconds, 1e-9),
    )


def error_logs(err: np.ndarray, loss: str, prefix: str = "") -> dict[str, float]:
    """Loss (data term only), RMSE and MAE of prediction errors, as Keras would log them."""
    err = np.asarray(err, np.float64)
    mse = float(np.mean(err**2))
    absolute = np.abs(err)
    if loss == "mse":
        value = mse
    elif loss == "mae":
        value = float(absolute.mean())
    else:  # huber, delta 1 (Keras' default)
        value = float(np.mean(np.where(absolute <= 1, 0.5 * err**2, absolute - 0.5)))
    return {
        f"{prefix}loss": value,
        f"{prefix}rmse": math.sqrt(mse),
        f"{prefix}mae": float(absolute.mean()),
    }
