"""``global_mean`` and ``biases``: non-neural baselines, fitted in numpy, no Keras.

They are model families like any other (same spec, same run directory, same compare
row), so every table has a floor. Their builders return a :class:`BaselineModel`,
which the experiment fits in closed form instead of calling ``keras.Model.fit``; the
fitted parameters go to ``model.npz`` instead of ``model.keras``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, NonNegativeFloat, PositiveInt

from recexp.baselines import Biases, fit_biases
from recexp.models.base import MODELS, BuildContext, ModelOptions


class GlobalMeanOptions(ModelOptions):
    """Predict the training mean for every pair."""

    family: Literal["global_mean"] = "global_mean"


class BiasesOptions(ModelOptions):
    """``mu + b_u + b_i`` by regularised ALS (Surprise's BaselineOnly defaults)."""

    family: Literal["biases"] = "biases"
    reg_user: NonNegativeFloat = Field(15.0, description="shrinks user biases toward 0")
    reg_item: NonNegativeFloat = Field(10.0, description="shrinks item biases toward 0")
    sweeps: PositiveInt = Field(10, description="ALS sweeps")


class BaselineModel:
    """A fitted-in-closed-form predictor with the slice of the Keras API the runner uses."""

    def __init__(self, name: str, n_users: int, n_items: int, options: ModelOptions) -> None:
        self.name = name
        self.options = options
        self.n_users, self.n_items = n_users, n_items
        self.biases = Biases(0.0, np.zeros(n_users, np.float32), np.zeros(n_items, np.float32))

    def fit(self, user: np.ndarray, item: np.ndarray, rating: np.ndarray) -> None:
        o = self.options
        if isinstance(o, BiasesOptions):
            self.biases = fit_biases(
                user, item, rating, self.n_users, self.n_items, o.reg_user, o.reg_item, o.sweeps
            )
        else:
            self.biases = Biases(float(np.mean(rating)), self.biases.user * 0, self.biases.item * 0)

    def predict(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        return self.biases.predict(user, item)

    def count_params(self) -> int:
        return 1 + (self.n_users + self.n_items if isinstance(self.options, BiasesOptions) else 0)

    def summary_text(self) -> str:
        return (
            f"Model: {self.name!r} (numpy baseline, fitted in closed form)\n"
            f" Total params: {self.count_params():,}\n"
        )

    def save(self, path: Path) -> None:
        np.savez(path, mu=self.biases.mu, user=self.biases.user, item=self.biases.item)


@MODELS.register("global_mean", options=GlobalMeanOptions, help="the training mean (a floor)")
def build_global_mean(options: GlobalMeanOptions, ctx: BuildContext) -> Any:
    return BaselineModel("global_mean", ctx.n_users, ctx.n_items, options)


@MODELS.register("biases", options=BiasesOptions, help="user + item biases by ALS, no Keras")
def build_biases(options: BiasesOptions, ctx: BuildContext) -> Any:
    return BaselineModel("biases", ctx.n_users, ctx.n_items, options)
