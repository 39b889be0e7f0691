"""``ensemble``: several families trained one after the other on the same data, their
predictions blended by weights fitted on the validation part (or given).

    model:
      family: ensemble
      members:
        - model: {family: glocal_k}
        - model: {family: autorec, l2: 100}
          optimizer: {name: adam, learning_rate: 0.001}   # replaces the spec's block
        - model: {family: mf, dim: 32, l2: 0.08}
          optimizer: {name: lazy_adam, learning_rate: 0.002}
          training: {batch_size: 256, max_epochs: 100}    # keys of training to change
      weights: validation    # least squares on the validation ratings (with an intercept)

Each member is fitted as its own run would be (its early stopping on the same validation
part); the blend ``w0 + sum_k w_k * prediction_k`` is then fitted on the validation
ratings, so the test set is never looked at. Members are saved in ``members/<k>/`` of
the run directory, each as its own run saves it. The Recommender and the registry entry
are in :mod:`recexp.models.ensemble_model`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from recexp.models.base import MODELS, ModelOptions
from recexp.schema import Options
from recexp.training.optimizers import OPTIMIZERS


class MemberOptions(Options):
    """One member: its model block, and what it changes of the spec's optimizer/training."""

    model: Any = Field(description="a model block (family and its options)")
    optimizer: Any = Field(None, description="an optimizer block (None = the spec's)")
    training: dict[str, Any] = Field(
        default_factory=dict, description="keys of the spec's training block to change"
    )

    @field_validator("model", mode="before")
    @classmethod
    def _model(cls, value: Any) -> Any:
        if isinstance(value, ModelOptions):
            return value
        if not isinstance(value, dict) or "family" not in value:
            raise ValueError("a member's model needs a family")
        if value["family"] == "ensemble":
            raise ValueError("an ensemble cannot be a member of an ensemble")
        if value["family"] not in MODELS:
            raise ValueError(MODELS.unknown_message(value["family"]))
        return MODELS.get(value["family"]).options.model_validate(value)

    @field_validator("optimizer", mode="before")
    @classmethod
    def _optimizer(cls, value: Any) -> Any:
        if value is None or not isinstance(value, dict):
            return value
        name = value.get("name", "adam")
        if name not in OPTIMIZERS:
            raise ValueError(OPTIMIZERS.unknown_message(name))
        return OPTIMIZERS.get(name).options.model_validate({"name": name, **value})


class EnsembleOptions(ModelOptions):
    """Members trained in turn; predictions blended by weights fitted on validation."""

    family: Literal["ensemble"] = "ensemble"
    members: list[MemberOptions] = Field(min_length=2, description="the families to blend")
    weights: Literal["validation", "mean"] | list[float] = Field(
        "validation",
        description="validation: least squares on the validation ratings (with an "
        "intercept); mean: equal weights; or one weight per member",
    )

    @model_validator(mode="after")
    def _weights_per_member(self) -> EnsembleOptions:
        if isinstance(self.weights, list) and len(self.weights) != len(self.members):
            raise ValueError(
                f"weights: one per member ({len(self.members)}), got {len(self.weights)}"
            )
        return self

    def unsupported(self, config: Any) -> tuple[str, str, Any] | None:
        for k, member in enumerate(self.members):
            training = config.training.model_copy(update=member.training)
            optimizer = member.optimizer or config.optimizer
            update = {"model": member.model, "training": training, "optimizer": optimizer}
            refused = member.model.unsupported(config.model_copy(update=update))
            if refused is not None:
                key, problem, got = refused
                return f"model.members.{k}: {key}", problem, got
        return None


def blend_weights(predictions: np.ndarray, target: np.ndarray, how: Any) -> np.ndarray:
    """``[w0, w1, ..., wk]`` for ``w0 + predictions @ w[1:]`` (predictions: n x k)."""
    k = predictions.shape[1]
    if isinstance(how, list):
        return np.array([0.0, *how])
    if how == "mean" or len(target) <= k + 1:
        return np.array([0.0] + [1.0 / k] * k)
    design = np.column_stack([np.ones(len(target)), predictions]).astype(np.float64)
    weights, *_ = np.linalg.lstsq(design, np.asarray(target, np.float64), rcond=None)
    return np.asarray(weights)


class Relay:
    """Passes a member's epoch rows on, numbered after the previous members' epochs."""

    def __init__(self, listeners: Sequence[Any], offset: int) -> None:
        self.listeners, self.offset = listeners, offset

    def on_epoch(self, row: dict[str, Any]) -> None:
        row = {**row, "epoch": row["epoch"] + self.offset}
        for listener in self.listeners:
            listener.on_epoch(row)


def timed(start: float) -> float:
    return round(time.perf_counter() - start, 4)
