"""The in-memory ratings table every loader returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class RatingScale:
    """The range of valid ratings; ``step`` is None for continuous ratings."""

    min: float
    max: float
    step: float | None = None

    def clip(self, values: np.ndarray) -> np.ndarray:
        return np.clip(values, self.min, self.max)


@dataclass
class Ratings:
    """A ratings table as a loader produces it, before filtering, splitting and encoding.

    ``frame`` has columns ``user`` and ``item`` (raw ids, any hashable dtype), ``rating``
    (float32) and optionally ``timestamp`` (int64 seconds) and ``true_score`` (float32,
    the noiseless score, known only for synthetic data). ``user_features`` and
    ``item_features`` are indexed by raw id. ``info`` carries what the loader wants
    recorded in the run directory (source files, rows dropped, ...).
    """

    frame: pd.DataFrame
    scale: RatingScale
    user_features: pd.DataFrame | None = None
    item_features: pd.DataFrame | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = {"user", "item", "rating"} - set(self.frame.columns)
        if missing:
            raise ValueError(f"ratings frame lacks columns {sorted(missing)}")
