"""The fit's own options: early stopping and TensorFlow's thread pools (a leaf: imports
no recexp module but the schema and the ranking metric names)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveInt, field_validator

from recexp.evaluation.options import is_ranking_metric
from recexp.schema import Options

#: What training logs each epoch, and so what early stopping may monitor.
MONITORS = ("loss", "rmse", "mae", "val_loss", "val_rmse", "val_mae")


class EarlyStopping(Options):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs."""

    monitor: str = Field(
        "val_rmse",
        description=f"one of: {', '.join(MONITORS)}, or a validation ranking metric "
        "(val_ndcg@10, val_recall@20, val_mrr, ...; evaluation.ranking must be on)",
    )
    patience: PositiveInt = 5
    min_delta: float = Field(0.0, ge=0)
    mode: Literal["auto", "min", "max"] = "auto"
    restore_best_weights: bool = True

    @field_validator("monitor")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        if value not in MONITORS and not (value.startswith("val_") and is_ranking_metric(value)):
            raise ValueError(
                f"unknown metric {value!r}; expected one of: {', '.join(MONITORS)}, "
                "or val_<ranking metric>@k (e.g. val_ndcg@10)"
            )
        return value


class ThreadOptions(Options):
    """TensorFlow's CPU thread pools (0 = TensorFlow's choice: one thread per core)."""

    intra_op: NonNegativeInt = Field(0, description="threads that split one op (1: none)")
    inter_op: NonNegativeInt = Field(0, description="ops run side by side")


__all__ = ["MONITORS", "EarlyStopping", "ThreadOptions"]
