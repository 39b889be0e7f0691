"""The base of the accuracy families' Recommender classes (autorec, svdpp, glocal_k).

They fit with their own loop (:mod:`recexp.models._accuracy_fit`) instead of Keras'
``fit`` on (user, item) pairs, and save their weights with the options and sizes needed
to rebuild the model (``model_options.json`` beside the weights), so that
:meth:`Recommender.load` gives the same class and the same predictions.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from recexp.models.base import BuildContext, ModelOptions
from recexp.models.protocol import Recommender
from recexp.runs import MODEL_OPTIONS, MODEL_WEIGHTS, RATING_VECTORS
from recexp.training.events import EpochListener, FitResult, TrainData

if TYPE_CHECKING:
    from recexp.config import TrainingOptions
    from recexp.data.rating_vectors import RatingVectors
    from recexp.training.optimizers import OptimizerOptions


class AccuracyRecommender(Recommender):
    """Options, sizes and the rating range (training units) of an own-loop family."""

    options_class: ClassVar[type[ModelOptions]] = ModelOptions
    vectors: RatingVectors | None = None  # the families that read rating vectors

    def __init__(
        self,
        options: Any,
        n_users: int,
        n_items: int,
        rating_range: tuple[float, float] = (-np.inf, np.inf),
    ) -> None:
        self.options = options
        self.n_users, self.n_items = int(n_users), int(n_items)
        self.rating_range = (float(rating_range[0]), float(rating_range[1]))
        self.optimizer_label = ""

    @classmethod
    def from_context(cls, options: Any, ctx: BuildContext) -> Any:
        return cls(options, ctx.n_users, ctx.n_items, (ctx.rating_min, ctx.rating_max))

    def prepare(self, training: TrainingOptions, optimizer: OptimizerOptions, n_train: int) -> None:
        self.optimizer_label = f"{optimizer.name} lr={optimizer.learning_rate:.3g}"

    def clip(self, prediction: np.ndarray) -> np.ndarray:
        """Validation predictions clipped to the rating scale, as the evaluator clips."""
        return np.clip(prediction, *self.rating_range)

    def weights(self) -> list[np.ndarray]:
        """A copy of the model's weights (what the epoch loop keeps for the best epoch)."""
        return [np.array(w) for w in self.model.get_weights()]  # type: ignore[attr-defined]

    def validation_predictions(self, data: TrainData) -> np.ndarray:
        return self.clip(self.predict(data.val_user, data.val_item))

    def run_epochs(
        self, listeners: Sequence[EpochListener], data: TrainData, epoch: Callable[[int], Any]
    ) -> FitResult:
        """``training.max_epochs`` of ``epoch`` with early stopping on validation RMSE."""
        from recexp.models._accuracy_fit import EpochLoop

        model = self.model  # type: ignore[attr-defined]
        return EpochLoop(listeners, data).run(
            data.options.max_epochs,
            epoch,
            lambda: self.validation_predictions(data),
            self.weights,
            model.set_weights,
        )

    def load_saved_weights(self, directory: Path, vectors: bool = False) -> None:
        """The weights (and the rating vectors) :meth:`save_files` wrote."""
        from recexp.data.rating_vectors import RatingVectors

        self.model.load_weights(Path(directory) / MODEL_WEIGHTS)  # type: ignore[attr-defined]
        if vectors:
            self.vectors = RatingVectors.load(Path(directory) / RATING_VECTORS)

    def write_options(self, directory: Path, **extra: Any) -> None:
        meta = {
            "options": self.options.model_dump(mode="json"),
            "n_users": self.n_users,
            "n_items": self.n_items,
            "rating_range": list(self.rating_range),
            "optimizer_label": self.optimizer_label,
            **extra,
        }
        save_atomically(
            directory, MODEL_OPTIONS, lambda tmp: tmp.write_text(json.dumps(meta, indent=2))
        )

    @classmethod
    def from_saved(cls, directory: Path) -> tuple[Any, dict[str, Any]]:
        """A new instance from ``model_options.json`` (model not built yet), and the record."""
        meta = json.loads((Path(directory) / MODEL_OPTIONS).read_text())
        options = cls.options_class.model_validate(meta["options"])
        lo, hi = meta.get("rating_range", [-np.inf, np.inf])
        self = cls(options, meta["n_users"], meta["n_items"], (lo, hi))
        self.optimizer_label = meta.get("optimizer_label", "")
        return self, meta


def save_atomically(directory: Path, name: str, write: Any) -> None:
    """``write(tmp_path)`` then rename to ``directory/name`` (the suffix kept for Keras)."""
    suffix = "".join(Path(name).suffixes)
    tmp = directory / f".{Path(name).name.removesuffix(suffix)}.tmp{suffix}"
    write(tmp)
    os.replace(tmp, directory / name)


def current_lr(optimizer: Any) -> float:
    return float(np.asarray(optimizer.learning_rate))


def own_loop_unsupported(config: Any, zeros_unobserved: bool) -> tuple[str, str, Any] | None:
    """What an own-loop family cannot honour: embedding strategies (it has no embedding
    tables of the registry), a loss other than squared error, learning-rate scaling and
    warm-up (the Keras fit's), and, for a family that reads unobserved entries as 0
    (``zeros_unobserved``: autorec, glocal_k), a rating transform."""
    family, t = config.model.family, config.training
    for table in ("user", "item"):
        strategy = getattr(config.embedding, table).strategy
        if strategy != "full":
            message = f"{family} has no embedding tables: embedding strategies do not apply"
            return f"embedding.{table}.strategy", message, strategy
    checks = [
        ("training.loss", t.loss, "mse", "trains on squared error only"),
        ("training.lr_scaling", t.lr_scaling, "none", "has its own loop without lr scaling"),
        ("training.warmup_epochs", t.warmup_epochs, 0.0, "has its own loop without warm-up"),
    ]
    if zeros_unobserved:
        checks.append(
            ("dataset.transform", config.dataset.transform, "none",
             "reads 0 as an unobserved rating: ratings must stay untransformed")
        )  # fmt: skip
    for key, value, allowed, problem in checks:
        if value != allowed:
            return key, f"{family} {problem}", value
    return None
