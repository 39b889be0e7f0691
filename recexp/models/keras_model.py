"""Any Keras model of a family, behind the :class:`Recommender` interface (imports Keras).

The family's builder makes the ``keras.Model`` (inputs ``user_input`` and
``item_input``); this class compiles it with the spec's optimizer, fits it with
:func:`recexp.training.fit.fit`, predicts in graph mode and saves ``model.keras``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

from recexp.models.protocol import ModelSummary, Recommender
from recexp.runs import MODEL_KERAS
from recexp.training.events import EpochListener, FitResult, TrainData
from recexp.training.optimizers import OptimizerOptions

if TYPE_CHECKING:
    from recexp.config import TrainingOptions

PREDICT_BATCH = 65_536


class KerasRecommender(Recommender):
    """A ``keras.Model`` that predicts a rating from ``user_input`` and ``item_input``."""

    def __init__(self, model: keras.Model) -> None:
        self.model = model
        self.eval_batch_size = PREDICT_BATCH
        self._predict: Any = None

    def prepare(self, training: TrainingOptions, optimizer: OptimizerOptions, n_train: int) -> None:
        """Optimizer, loss and metrics from the spec (learning rate scaled for the batch)."""
        from recexp.training.fit import compile_model

        compile_model(self.model, training, optimizer, n_train)
        self.eval_batch_size = training.eval_batch_size
        self.predicts_ratings = not training.objective.implicit  # else a score, not a rating
        self.optimizer_label = f"{optimizer.name} lr={optimizer.learning_rate:.3g}"
        tables = getattr(optimizer, "tables", None)
        if tables is not None:
            self.optimizer_label += f", tables {tables.name} lr={tables.learning_rate:.3g}"

    def fit(self, data: TrainData, listeners: Sequence[EpochListener]) -> FitResult:
        from recexp.training.fit import fit

        return fit(self.model, data, listeners, scorer=self.scorer)

    def predict(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        if self._predict is None:
            from recexp.training.fit import predictor

            self._predict = predictor(self.model, self.eval_batch_size)
        return np.asarray(self._predict(user, item)).reshape(-1)

    def scorer(self) -> Any:
        """One matmul per batch for the dot-product families, else tiled ``predict``."""
        from recexp.models.factor_scores import factor_scorer

        return factor_scorer(self.model, self.n_items) or self.score_items

    def summary(self) -> ModelSummary:
        return keras_summary(self.model)

    def save_files(self, directory: Path) -> None:
        tmp = directory / f".{MODEL_KERAS}.tmp.keras"
        self.model.save(tmp)
        os.replace(tmp, directory / MODEL_KERAS)

    @classmethod
    def load_files(cls, directory: Path) -> Recommender:
        return cls(load_keras_model(directory / MODEL_KERAS))


def load_keras_model(path: Path) -> keras.Model:
    """A saved model, with recexp's serializable layers registered first."""
    import recexp.embeddings.layers  # noqa: F401  (registers recexp's serializable classes)
    import recexp.models.layers  # noqa: F401

    return keras.saving.load_model(path, compile=False)


SUMMARY_WIDTH = 100  # Keras' table, all four columns (Connected to) whole


@contextlib.contextmanager
def _console_width(width: int) -> Iterator[None]:
    """Keras prints its summary through a rich console it makes itself, whose width
    off a terminal comes from ``COLUMNS``: set for the call, then put back."""
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = before


def keras_summary(model: keras.Model) -> ModelSummary:
    """Keras' own summary text, and the same facts as data (layers, embedding tables)."""
    from recexp.embeddings.report import embedding_report

    captured: list[str] = []
    with _console_width(SUMMARY_WIDTH):  # rich's console off a terminal is 80 wide: "Conne"
        model.summary(
            print_fn=lambda text, *args, **kwargs: captured.append(text),
            line_length=SUMMARY_WIDTH,
        )
    layers = [
        {
            "name": layer.name,
            "class": layer.__class__.__name__,
            "output_shape": _shape(layer),
            "params": int(layer.count_params()) if layer.built else 0,
        }
        for layer in model.layers
    ]
    return ModelSummary(
        text="\n".join(captured),
        params=int(model.count_params()),
        trainable_params=int(sum(np.prod(w.shape) for w in model.trainable_weights)),
        layers=layers,
        embeddings=embedding_report(model),
        name=model.name,
    )


def _shape(layer: Any) -> Any:
    try:
        return str(tuple(layer.output.shape))
    except (AttributeError, ValueError):
        return None
