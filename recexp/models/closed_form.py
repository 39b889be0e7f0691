"""``global_mean`` and ``biases``: non-neural baselines fitted in numpy, no Keras.

They are model families like any other (same spec, same run directory, same compare
row), so every table has a floor. ``fit_biases`` is the regularised baseline of Koren
(2010) fitted by alternating least squares, as Surprise's ``BaselineOnly``::

    r_hat(u, i) = mu + b_u + b_i
    b_i = sum_u (r - mu - b_u) / (reg_item + n_i);  b_u = sum_i (r - mu - b_i) / (reg_user + n_u)

It also gives the evaluator's fallback for ids unseen in training.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, NonNegativeFloat, PositiveInt

from recexp.models.base import MODELS, BuildContext, ModelOptions
from recexp.models.protocol import ModelSummary, Recommender
from recexp.runs import MODEL_NPZ
from recexp.training.events import (
    EpochListener,
    FitResult,
    TrainData,
    error_logs,
    one_epoch_fit,
)


@dataclass(frozen=True)
class Biases:
    """``mu + b_u + b_i``; unknown ids (code < 0) get a zero bias."""

    mu: float
    user: np.ndarray
    item: np.ndarray

    def predict(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        bu = np.where(user >= 0, self.user[np.maximum(user, 0)], 0.0)
        bi = np.where(item >= 0, self.item[np.maximum(item, 0)], 0.0)
        return (self.mu + bu + bi).astype(np.float32)


def fit_biases(
    user: np.ndarray,
    item: np.ndarray,
    rating: np.ndarray,
    n_users: int,
    n_items: int,
    reg_user: float = 15.0,
    reg_item: float = 10.0,
    sweeps: int = 10,
) -> Biases:
    """Regularised user and item biases by ``sweeps`` rounds of ALS (vectorised, no Keras)."""
    r = rating.astype(np.float64)
    mu = float(r.mean())
    n_u = np.bincount(user, minlength=n_users)
    n_i = np.bincount(item, minlength=n_items)
    bu = np.zeros(n_users)
    bi = np.zeros(n_items)
    for _ in range(sweeps):
        bi = np.bincount(item, r - mu - bu[user], minlength=n_items) / (reg_item + n_i)
        bu = np.bincount(user, r - mu - bi[item], minlength=n_users) / (reg_user + n_u)
    return Biases(mu, bu.astype(np.float32), bi.astype(np.float32))


class GlobalMeanOptions(ModelOptions):
    """Predict the training mean for every pair."""

    family: Literal["global_mean"] = "global_mean"


class BiasesOptions(ModelOptions):
    """``mu + b_u + b_i`` by regularised ALS (Surprise's BaselineOnly defaults)."""

    family: Literal["biases"] = "biases"
    reg_user: NonNegativeFloat = Field(15.0, description="shrinks user biases toward 0")
    reg_item: NonNegativeFloat = Field(10.0, description="shrinks item biases toward 0")
    sweeps: PositiveInt = Field(10, description="ALS sweeps")


class ClosedFormRecommender(Recommender):
    """``mu [+ b_u + b_i]`` fitted in one closed-form "epoch", logged like any other."""

    def __init__(self, name: str, n_users: int, n_items: int, biases: bool = True, **reg: Any):
        self.name, self.with_biases, self.reg = name, biases, reg
        self.n_users, self.n_items = n_users, n_items
        self.biases = Biases(0.0, np.zeros(n_users, np.float32), np.zeros(n_items, np.float32))

    def planned_epochs(self, training: Any) -> int:
        return 1  # fitted in closed form: one pass, whatever training.max_epochs says

    def fit(self, data: TrainData, listeners: Sequence[EpochListener]) -> FitResult:
        start = time.perf_counter()
        if self.with_biases:
            self.biases = fit_biases(
                data.user, data.item, data.rating, self.n_users, self.n_items, **self.reg
            )
        else:
            zeros = self.biases.user * 0, self.biases.item * 0
            self.biases = Biases(float(np.mean(data.rating)), *zeros)
        seconds = time.perf_counter() - start
        row: dict[str, Any] = {"epoch": 1}
        row.update(error_logs(self.predict(data.user, data.item) - data.rating, data.options.loss))
        if data.has_validation:
            err = self.predict(data.val_user, data.val_item) - data.val_rating
            row.update(error_logs(err, data.options.loss, "val_"))
        row.update(learning_rate=None, seconds=round(seconds, 4))
        return one_epoch_fit(row, listeners, seconds, len(data))

    def predict(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        return self.biases.predict(user, item)

    def summary(self) -> ModelSummary:
        params = 1 + (self.n_users + self.n_items if self.with_biases else 0)
        text = f"Model: {self.name!r} (numpy baseline, fitted in closed form)\n"
        return ModelSummary(text + f" Total params: {params:,}", params, params, name=self.name)

    def save_files(self, directory: Path) -> None:
        b = self.biases
        np.savez(directory / MODEL_NPZ, mu=b.mu, user=b.user, item=b.item, name=self.name)

    @classmethod
    def load_files(cls, directory: Path) -> Recommender:
        saved = np.load(directory / MODEL_NPZ)
        name = str(saved["name"]) if "name" in saved else "biases"
        model = cls(name, len(saved["user"]), len(saved["item"]), biases=name != "global_mean")
        model.biases = Biases(float(saved["mu"]), saved["user"], saved["item"])
        return model


@MODELS.register("global_mean", options=GlobalMeanOptions, help="the training mean (a floor)")
def build_global_mean(options: GlobalMeanOptions, ctx: BuildContext) -> Recommender:
    return ClosedFormRecommender("global_mean", ctx.n_users, ctx.n_items, biases=False)


@MODELS.register("biases", options=BiasesOptions, help="user + item biases by ALS, no Keras")
def build_biases(options: BiasesOptions, ctx: BuildContext) -> Recommender:
    return ClosedFormRecommender(
        "biases",
        ctx.n_users,
        ctx.n_items,
        reg_user=options.reg_user,
        reg_item=options.reg_item,
        sweeps=options.sweeps,
    )
