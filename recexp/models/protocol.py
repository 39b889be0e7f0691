"""The one interface every model family implements, Keras or closed-form.

The runner, the evaluator and ``recexp recommend`` hold a :class:`Recommender` and
never ask what kind it is::

    result = model.fit(train_data, listeners)      # history, best epoch, seconds
    scores = model.predict(user_codes, item_codes) # training units, ids seen in training
    block = model.scorer()(user_codes)             # (users, n_items) scores for top-N lists
    model.save(run_dir)                            # model files + recommender.json
    model = Recommender.load(run_dir)              # the same class, the same predictions

A subclass is found again on load by its class name (recorded in ``recommender.json``),
so each concrete class name must be unique.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from recexp.readers import loads_json
from recexp.runs import MODEL_KERAS, MODEL_NPZ, RECOMMENDER_FILE
from recexp.training.events import EpochListener, FitResult, TrainData


@dataclass
class ModelSummary:
    """What summary.txt and summary.json hold: the printed table and the same facts as data."""

    text: str
    params: int
    trainable_params: int
    layers: list[dict[str, Any]] = field(default_factory=list)
    embeddings: list[dict[str, Any]] = field(default_factory=list)
    name: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.name,
            "layers": self.layers,
            "params": self.params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.params - self.trainable_params,
            "embeddings": self.embeddings,
            "embedding_params": sum(t["parameters"] for t in self.embeddings),
            "embedding_bytes": sum(t["bytes"] for t in self.embeddings),
        }


@dataclass
class EvalPairs:
    """Known (user, item) test pairs with ratings in rating units, for extra metrics."""

    user: np.ndarray
    item: np.ndarray
    rating: np.ndarray
    n_items: int
    rating_max: float


class Recommender(ABC):
    """A model of any family: fit, predict, save, load, describe."""

    classes: ClassVar[dict[str, type[Recommender]]] = {}
    optimizer_label: str = "closed form"
    #: False for families that rank items but do not predict ratings (ease, item_knn,
    #: popularity) and for Keras models trained by an implicit objective (their output is
    #: a score): the evaluator reports no RMSE/MAE for them, only ranking metrics.
    predicts_ratings: bool = True
    #: items are coded 0 .. n_items - 1; :meth:`score_items` scores them all (set by the
    #: family or the builder, and again on load)
    n_items: int = 0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        Recommender.classes[cls.__name__] = cls

    @abstractmethod
    def fit(self, data: TrainData, listeners: Sequence[EpochListener]) -> FitResult:
        """Train on ``data``, reporting each epoch to ``listeners``."""

    @abstractmethod
    def predict(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        """Predictions in training units for int32 codes of ids seen in training."""

    @abstractmethod
    def summary(self) -> ModelSummary: ...

    @abstractmethod
    def save_files(self, directory: Path) -> None:
        """Write the model's own files into ``directory`` (atomically)."""

    @classmethod
    @abstractmethod
    def load_files(cls, directory: Path) -> Recommender: ...

    def prepare(self, training: Any, optimizer: Any, n_train: int) -> None:  # noqa: B027
        """Take the spec's training and optimizer options before fit (Keras: compile)."""

    def planned_epochs(self, training: Any) -> int:
        """How many epochs fit runs at most, for the progress display ("epoch 3/60")."""
        return int(training.max_epochs)

    def extra_metrics(self, pairs: EvalPairs) -> dict[str, Any] | None:
        """Family-specific test metrics (two_tower: retrieval); none by default."""
        return None

    def score_items(self, users: np.ndarray) -> np.ndarray:
        """Scores of every item for each user code in ``users`` (ids seen in training):
        a float32 array of shape ``(len(users), n_items)``, higher is recommended first.
        Train items are NOT masked here (the evaluator masks them). The caller bounds
        ``len(users)`` (a batch), so memory is one batch, never users x items."""
        items = np.arange(self.n_items, dtype=np.int32)
        user = np.repeat(users.astype(np.int32), len(items))
        item = np.tile(items, len(users))
        return np.asarray(self.predict(user, item), np.float32).reshape(len(users), len(items))

    def scorer(self) -> Callable[[np.ndarray], np.ndarray]:
        """``score_items`` for one evaluation: a family may compute what every batch shares
        (its item factors) once here. Call it again after the weights change."""
        return self.score_items

    def save(self, directory: Path) -> None:
        self.save_files(directory)
        record: dict[str, Any] = {"class": type(self).__name__, "n_items": int(self.n_items)}
        if not self.predicts_ratings:
            record["predicts_ratings"] = False
        (directory / RECOMMENDER_FILE).write_text(json.dumps(record))

    @staticmethod
    def load(directory: Path) -> Recommender:
        """The recommender a run directory saved, whatever its family."""
        from recexp.errors import ConfigError

        n_items, record = 0, {}
        try:
            record = loads_json((directory / RECOMMENDER_FILE).read_text())
            cls = _saved_class(record["class"])
            n_items = int(record.get("n_items", 0))
        except FileNotFoundError:
            cls = _legacy_class(directory)
        except (KeyError, TypeError, ValueError):
            raise ConfigError(
                f"{RECOMMENDER_FILE} names no known model class", file=str(directory)
            ) from None
        try:
            model = cls.load_files(directory)
            model.n_items = n_items or model.n_items
            if record.get("predicts_ratings") is False:  # trained on an implicit objective
                model.predicts_ratings = False
            return model
        except Exception as error:  # a truncated, empty or foreign model file
            reason = str(error).splitlines()[0][:200] if str(error) else ""
            raise ConfigError(
                f"the saved model cannot be loaded ({error.__class__.__name__}: {reason}); "
                "retrain the run",
                file=str(directory),
            ) from None


#: Recommender classes whose modules import Keras, so importing ``recexp.models`` does not
#: define them: a fresh process (``recexp recommend``) imports them when a run names them.
KERAS_CLASSES = {
    "KerasRecommender": "recexp.models.keras_model",
    "TwoTowerRecommender": "recexp.models.retrieval",
}


def _saved_class(name: str) -> type[Recommender]:
    """The class a run's recommender.json names (KeyError: none by that name)."""
    if name in KERAS_CLASSES and name not in Recommender.classes:
        import importlib

        importlib.import_module(KERAS_CLASSES[name])
    return Recommender.classes[name]


def _legacy_class(directory: Path) -> type[Recommender]:
    """Runs saved before recommender.json: the model file says which class."""
    from recexp.errors import ConfigError

    if (directory / MODEL_NPZ).is_file():
        return Recommender.classes["ClosedFormRecommender"]
    if (directory / MODEL_KERAS).is_file():
        return _saved_class("KerasRecommender")
    raise ConfigError(f"the run saved no model ({MODEL_KERAS} or {MODEL_NPZ})", file=str(directory))
