"""Tiny hand-made train data for the accuracy families' tests."""

from __future__ import annotations

import numpy as np

from recexp.config import EarlyStopping, TrainingOptions
from recexp.training import TrainData
from recexp.training.optimizers import AdamOptions


def tiny_data(n_users: int = 12, n_items: int = 9, seed: int = 0, **training: object) -> TrainData:
    """A low-rank-ish rating matrix with ~half the entries observed, 10% of them for val."""
    rng = np.random.default_rng(seed)
    p, q = rng.normal(size=(n_users, 2)), rng.normal(size=(n_items, 2))
    full = np.clip(np.round(3 + p @ q.T), 1, 5).astype(np.float32)
    user, item = np.nonzero(rng.random((n_users, n_items)) < 0.5)
    val = rng.random(len(user)) < 0.1
    options = TrainingOptions(
        batch_size=16,
        max_epochs=int(training.pop("max_epochs", 3)),  # type: ignore[call-overload]
        early_stopping=EarlyStopping(patience=50),
        **training,  # type: ignore[arg-type]
    )
    return TrainData(
        user=user[~val].astype(np.int32),
        item=item[~val].astype(np.int32),
        rating=full[user[~val], item[~val]],
        val_user=user[val].astype(np.int32),
        val_item=item[val].astype(np.int32),
        val_rating=full[user[val], item[val]],
        n_users=n_users,
        n_items=n_items,
        options=options,
        optimizer=AdamOptions(learning_rate=0.01),
        seed=seed,
    )


# what every family's fit reports per epoch (as recexp.training.fit does for Keras models)
ROW_KEYS = ("epoch", "loss", "rmse", "mae", "val_loss", "val_rmse", "val_mae", "learning_rate",
            "seconds")  # fmt: skip


class Rows:
    def __init__(self) -> None:
        self.rows: list[dict[str, float]] = []

    def on_epoch(self, row: dict[str, float]) -> None:
        self.rows.append(row)
