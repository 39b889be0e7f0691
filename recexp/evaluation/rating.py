"""Rating metrics: a fitted model's predictions on val and test, in rating units.

Predictions for pairs whose user and item were both seen in training come from the
model. Any other pair gets the **fallback**: the regularised biases baseline
(:func:`recexp.models.closed_form.fit_biases`), i.e. the global mean plus whatever bias
is known (the item's for a new user, the user's for a new item, none for both new).
Predictions are clipped to the rating scale unless ``training.clip_predictions`` is off.
Every run is also measured against the global mean and the biases baseline on its own
test set, and warned about when it does not beat the biases.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from recexp.data.pipeline import Dataset, Part
from recexp.models.closed_form import Biases, fit_biases
from recexp.run_metrics import BaselineScores, Metrics, PartScores

BIAS_MODELS = ("global_mean", "biases")
BIASES_MARGIN = 0.005  # a learned model should beat the closed-form biases by more than this


def rmse(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(y, np.float64) - p) ** 2))) if len(y) else float("nan")


def mae(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(y, np.float64) - p))) if len(y) else float("nan")


def fallback_for(data: Dataset) -> Biases:
    """The biases baseline fitted on the training part: the prediction for unseen ids."""
    t = data.train
    return fit_biases(t.user, t.item, t.rating, data.n_users, data.n_items)


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


def scores(data: Dataset, part: Part, prediction: np.ndarray) -> PartScores:
    """RMSE and MAE in rating units, and in training units when a transform is in use."""
    if not len(part):  # e.g. no validation part: nothing to score (and no NaN in the JSON)
        return PartScores(rmse=None, mae=None, n=0, n_fallback=0)
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
    return PartScores(**result)


def baselines(data: Dataset, fallback: Biases) -> BaselineScores:
    """The global mean's and the biases baseline's test RMSE on this run's test set."""
    test = data.test
    mean = np.full(len(test), data.global_mean, np.float32)
    biases = data.scale.clip(fallback.predict(test.user, test.item))
    return BaselineScores(
        global_mean_test_rmse=rmse(test.rating, mean),
        biases_test_rmse=rmse(test.rating, biases),
    )


def no_better_than_biases(family: str, metrics: Metrics) -> str | None:
    """A warning when a learned model's test RMSE is within 0.5% of the closed-form biases'.

    Such a model has learned nothing beyond per-user and per-item offsets (over-strong
    regularisation, a collapsed embedding, too few epochs); its number says so quietly,
    so the run says it out loud.
    """
    test, floor = metrics.test.rmse, metrics.baselines.biases_test_rmse
    if family in BIAS_MODELS or test is None or floor is None:
        return None
    if test < floor * (1 - BIASES_MARGIN):
        return None
    return (
        f"test RMSE {test:.4f} is within {BIASES_MARGIN:.1%} of the per-user/per-item biases "
        f"baseline ({floor:.4f}) or worse: the model adds (almost) nothing to the biases"
    )
