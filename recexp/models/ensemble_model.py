"""The ``ensemble`` family's Recommender: members fitted in turn, then the blend."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from recexp.models._accuracy_common import save_atomically
from recexp.models.base import MODELS, BuildContext, ModelOptions
from recexp.models.ensemble import EnsembleOptions, Relay, blend_weights, timed
from recexp.models.protocol import EvalPairs, ModelSummary, Recommender
from recexp.runs import ENSEMBLE_MEMBERS, MODEL_OPTIONS
from recexp.training.events import EpochListener, FitResult, TrainData, error_logs


def member_recommender(options: ModelOptions, ctx: BuildContext) -> Recommender:
    """A member as its own run builds it (a Keras model wrapped, as make_recommender)."""
    built = MODELS.get(options.family, key="model.family").fn(options, ctx)
    if isinstance(built, Recommender):
        return built
    from recexp.models.keras_model import KerasRecommender

    return KerasRecommender(built)


class EnsembleRecommender(Recommender):
    """``w0 + sum_k w_k * member_k.predict``; weights fitted on validation at fit time."""

    def __init__(self, options: EnsembleOptions, members: list[Recommender]) -> None:
        self.options, self.members = options, members
        self.weights = blend_weights(np.zeros((0, len(members))), np.zeros(0), "mean")
        self.member_data: list[tuple[Any, Any]] = []

    def prepare(self, training: Any, optimizer: Any, n_train: int) -> None:
        """Each member gets the spec's blocks with its own changes, as its own run would."""
        self.member_data = []
        for spec, member in zip(self.options.members, self.members, strict=True):
            member_training = type(training).model_validate(
                {**training.model_dump(), **spec.training}
            )
            member_optimizer = spec.optimizer or optimizer
            member.prepare(member_training, member_optimizer, n_train)
            self.member_data.append((member_training, member_optimizer))
        self._label()

    def _label(self) -> None:
        self.optimizer_label = " + ".join(m.optimizer_label for m in self.members)

    def fit(self, data: TrainData, listeners: Sequence[EpochListener]) -> FitResult:
        result = FitResult()
        for k, member in enumerate(self.members):
            training, optimizer = self.member_data[k] if self.member_data else (None, None)
            member_data = replace(
                data,
                options=training or data.options,
                optimizer=optimizer or data.optimizer,
            )
            offset = len(result.history)
            done = member.fit(member_data, [Relay(listeners, offset)])
            result.history += [{**row, "epoch": row["epoch"] + offset} for row in done.history]
            result.train_seconds += done.train_seconds
            if done.interrupted or done.pruned:  # the members fitted so far, equal weights
                self.members = self.members[: k + 1]
                result.interrupted, result.interrupt = done.interrupted, done.interrupt
                result.pruned = done.pruned
                return self._finish(result, data, [], fitted=False)
        return self._finish(result, data, listeners, fitted=True)

    def _finish(
        self, result: FitResult, data: TrainData, listeners: Sequence[Any], fitted: bool
    ) -> FitResult:
        """Fit the blend on the validation ratings and report it as one more row."""
        start = time.perf_counter()
        how = self.options.weights if fitted else "mean"
        val = self._stack(data.val_user, data.val_item)
        self.weights = blend_weights(val, data.val_rating, how)
        row: dict[str, Any] = {"epoch": len(result.history) + 1}
        row.update(error_logs(self.predict(data.user, data.item) - data.rating, "mse"))
        if data.has_validation:
            err = self.predict(data.val_user, data.val_item) - data.val_rating
            row.update(error_logs(err, data.options.loss, prefix="val_"))
        row.update(learning_rate=None, seconds=timed(start))
        result.history.append(row)
        for listener in listeners:
            listener.on_epoch(row)
        result.train_seconds += row["seconds"]
        result.best_epoch = row["epoch"]
        result.best_value = row.get("val_rmse")
        # ratings processed per second over all the members' epochs
        epochs = len(result.history) - 1
        result.ratings_per_second = len(data) * epochs / max(result.train_seconds, 1e-9)
        self._label()
        return result

    def _stack(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        """Members' predictions as columns (n x k)."""
        columns = [np.asarray(m.predict(user, item), np.float64) for m in self.members]
        return np.column_stack(columns) if columns else np.zeros((len(user), 0))

    def predict(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        stacked = self._stack(user, item)
        k = stacked.shape[1]
        return (self.weights[0] + stacked @ self.weights[1 : k + 1]).astype(np.float32)

    def extra_metrics(self, pairs: EvalPairs) -> dict[str, Any] | None:
        return None

    def summary(self) -> ModelSummary:
        parts = [m.summary() for m in self.members]
        params = sum(p.params for p in parts)
        text = "\n\n".join(f"ensemble member {k}:\n{p.text}" for k, p in enumerate(parts))
        return ModelSummary(
            text=f"{text}\n\nensemble of {len(parts)}: total params {params:,}",
            params=params,
            trainable_params=sum(p.trainable_params for p in parts),
            layers=[layer for p in parts for layer in p.layers],
            embeddings=[table for p in parts for table in p.embeddings],
            name="ensemble",
        )

    def save_files(self, directory: Path) -> None:
        for k, member in enumerate(self.members):
            path = directory / ENSEMBLE_MEMBERS / str(k)
            path.mkdir(parents=True, exist_ok=True)
            member.save(path)
        meta = {
            "options": self.options.model_dump(mode="json"),
            "weights": self.weights.tolist(),
            "members": len(self.members),
            "optimizer_label": self.optimizer_label,
        }
        save_atomically(
            directory, MODEL_OPTIONS, lambda tmp: tmp.write_text(json.dumps(meta, indent=2))
        )

    @classmethod
    def load_files(cls, directory: Path) -> Recommender:
        import recexp.models.keras_model  # noqa: F401  (a Keras member's class, by its name)

        meta = json.loads((directory / MODEL_OPTIONS).read_text())
        members = [
            Recommender.load(directory / ENSEMBLE_MEMBERS / str(k)) for k in range(meta["members"])
        ]
        self = cls(EnsembleOptions.model_validate(meta["options"]), members)
        self.weights = np.asarray(meta["weights"], np.float64)
        self.optimizer_label = meta.get("optimizer_label", "")
        return self


@MODELS.register("ensemble", options=EnsembleOptions, help="a validation-weighted blend")
def build_ensemble(options: EnsembleOptions, ctx: BuildContext) -> Recommender:
    members = [member_recommender(m.model, ctx) for m in options.members]
    return EnsembleRecommender(options, members)
