"""Pieces shared by the accuracy families' Recommender classes: save/load metadata,
the rating range for clipping, the optimizer label."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

META = "recommender.json"


def write_meta(directory: Path, options: Any, **extra: Any) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    meta = {"options": options.model_dump(), **extra}
    (directory / META).write_text(json.dumps(meta, indent=2))


def read_meta(directory: Path) -> dict[str, Any]:
    return json.loads((Path(directory) / META).read_text())


def rating_range(rating: np.ndarray) -> tuple[float, float]:
    """Validation predictions are clipped to the train ratings' range (as the evaluator does)."""
    if len(rating) == 0:
        return -np.inf, np.inf
    return float(np.min(rating)), float(np.max(rating))


def optimizer_label(options: Any) -> str:
    return f"{options.name} lr={options.learning_rate:g}"


def current_lr(optimizer: Any) -> float:
    return float(np.asarray(optimizer.learning_rate))
