"""Metrics and predictions in rating units.

Predictions for pairs whose user and item were both seen in training come from the
model. Any other pair gets the **fallback**: the regularised biases baseline
(:func:`recexp.baselines.fit_biases`), i.e. the global mean plus whatever bias is
known (the item's for a new user, the user's for a new item, none for both new).
Predictions are clipped to the rating scale unless ``training.clip_predictions`` is off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from recexp.baselines import Biases
from recexp.data.pipeline import Dataset, Part


def rmse(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(y, np.float64) - p) ** 2))) if len(y) else float("nan")


def mae(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(y, np.float64) - p))) if len(y) else float("nan")


def predict_part(
    predict_known: Callable[[np.ndarray, np.ndarray], np.ndarray],
    data: Dataset,
    part: Part,
    fallback: Biases,
    clip: bool = True,
) -> np.ndarray:
    """Predictions in rating units for every row of ``part``.

    ``predict_known(user_codes, item_codes)`` returns training-unit predictions for
    pairs of known ids; the transform is undone here.
    """
    out = fallback.predict(part.user, part.item)
    known = part.known
    if known.any():
        raw = predict_known(part.user[known], part.item[known])
        out[known] = data.transform.inverse(np.asarray(raw, np.float32).reshape(-1))
    return data.scale.clip(out) if clip else out


def scores(data: Dataset, part: Part, prediction: np.ndarray) -> dict[str, Any]:
    """RMSE and MAE in rating units, and in training units when a transform is in use."""
    if not len(part):  # e.g. no validation part: nothing to score (and no NaN in the JSON)
        return {"rmse": None, "mae": None, "n": 0, "n_fallback": 0}
    result: dict[str, Any] = {
        "rmse": rmse(part.rating, prediction),
        "mae": mae(part.rating, prediction),
        "n": len(part),
        "n_fallback": int((~part.known).sum()),
    }
    if data.transform.kind != "none":
        t_true = data.transform.forward(part.rating)
        t_pred = data.transform.forward(prediction)
        result["rmse_transformed"] = rmse(t_true, t_pred)
        result["mae_transformed"] = mae(t_true, t_pred)
    if part.true_score is not None:
        result["oracle_rmse"] = rmse(part.rating, part.true_score)
    return result
