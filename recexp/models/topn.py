"""What the top-N baselines (``popularity``, ``item_knn``, ``ease``) share.

They rank items and predict no rating: each scores every item for a user from the
user's training interactions (a sparse users x items matrix, built once by
:func:`interaction_matrix`), and ``predict(user, item)`` is that score for one pair (so
``recexp recommend`` and predictions.parquet still work), not a rating. Their
:attr:`~recexp.models.protocol.Recommender.predicts_ratings` is False, so the evaluator
reports ranking metrics for them and no RMSE/MAE.

A positive is a training rating (any value), or with ``min_rating`` set only one of at
least ``min_rating`` (in rating units, so the spec's ``dataset.transform`` must stay
``none``). The fitted arrays and the interaction matrix are saved in ``model.npz``, so a
loaded model scores without the data.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from recexp.models.base import ModelOptions
from recexp.models.protocol import ModelSummary, Recommender
from recexp.runs import MODEL_NPZ
from recexp.training.events import EpochListener, FitResult, TrainData, one_epoch_fit

if TYPE_CHECKING:
    from scipy import sparse

#: the most score cells (users x items) ``predict`` computes at once: 64 MB of float32
PREDICT_CELLS = 16_000_000

MIN_RATING_HELP = (
    "only training ratings >= min_rating (rating units) count as interactions; "
    "None: every training rating does"
)


class TopNOptions(ModelOptions):
    """Options every top-N baseline shares: what counts as an interaction."""

    min_rating: float | None = Field(None, description=MIN_RATING_HELP)

    def reads_rating_values(self) -> bool:
        """Whether fitting reads rating values (then they must be in rating units)."""
        return self.min_rating is not None

    def unsupported(self, config: Any) -> tuple[str, str, Any] | None:
        family = config.model.family
        for table in ("user", "item"):
            strategy = getattr(config.embedding, table).strategy
            if strategy != "full":
                message = f"{family} has no embedding tables: embedding strategies do not apply"
                return f"embedding.{table}.strategy", message, strategy
        if self.reads_rating_values() and config.dataset.transform != "none":
            message = f"{family} reads ratings in rating units: ratings must stay untransformed"
            return "dataset.transform", message, config.dataset.transform
        return None


def interaction_matrix(
    data: TrainData, min_rating: float | None = None, values: Literal["binary", "rating"] = "binary"
) -> sparse.csr_matrix:
    """The ``(n_users, n_items)`` float64 CSR matrix of training interactions: 1 per
    (user, item) pair (``binary``; a pair rated twice counts once) or the rating (``rating``;
    a pair rated twice holds the later rating), keeping only ratings >= ``min_rating``."""
    from scipy import sparse

    keep = slice(None) if min_rating is None else data.rating >= min_rating
    user, item = data.user[keep], data.item[keep]
    rating = np.asarray(data.rating[keep], np.float64)
    if values == "binary":
        rating = np.ones(len(user))
    shape = (data.n_users, data.n_items)
    pairs = user.astype(np.int64) * data.n_items + item
    last = len(pairs) - 1 - np.unique(pairs[::-1], return_index=True)[1]  # last of each pair
    matrix = sparse.csr_matrix((rating[last], (user[last], item[last])), shape=shape)
    matrix.sort_indices()
    return matrix


def csr_arrays(prefix: str, matrix: sparse.csr_matrix) -> dict[str, np.ndarray]:
    """A CSR matrix as the arrays ``np.savez`` stores (``prefix_data``, ...)."""
    m = matrix.tocsr()
    return {
        f"{prefix}_data": m.data,
        f"{prefix}_indices": m.indices,
        f"{prefix}_indptr": m.indptr,
        f"{prefix}_shape": np.asarray(m.shape),
    }


def csr_from(saved: Any, prefix: str) -> sparse.csr_matrix:
    """The CSR matrix :func:`csr_arrays` stored."""
    from scipy import sparse

    arrays = (saved[f"{prefix}_data"], saved[f"{prefix}_indices"], saved[f"{prefix}_indptr"])
    return sparse.csr_matrix(arrays, shape=tuple(int(n) for n in saved[f"{prefix}_shape"]))


class TopNRecommender(Recommender):
    """A top-N baseline: fitted from the interaction matrix in one "epoch", scores only.

    A subclass sets ``family``, fits in :meth:`fit_matrix`, scores in :meth:`score_items`
    and names its fitted arrays in :meth:`arrays` / :meth:`restore`.
    """

    predicts_ratings: bool = False
    family: ClassVar[str] = ""

    def __init__(self, options: TopNOptions, n_users: int, n_items: int) -> None:
        from scipy import sparse

        self.options, self.n_users, self.n_items = options, int(n_users), int(n_items)
        self.interactions = sparse.csr_matrix((self.n_users, self.n_items))

    def fit_matrix(self, data: TrainData) -> None:
        """Fit from ``data`` (``self.interactions`` already holds its interaction matrix)."""

    def params(self) -> int:
        """The fitted values this model holds (stored similarities, weights, counts)."""
        return self.n_items

    def arrays(self) -> dict[str, np.ndarray]:
        return {}

    def restore(self, saved: Any) -> None: ...

    def fit(self, data: TrainData, listeners: Sequence[EpochListener]) -> FitResult:
        start = time.perf_counter()
        self.interactions = interaction_matrix(data, self.options.min_rating)
        self.fit_matrix(data)
        seconds = time.perf_counter() - start
        # no loss and no rating error: nothing of the kind is fitted or predicted
        row: dict[str, Any] = {"epoch": 1, "learning_rate": None, "seconds": round(seconds, 4)}
        return one_epoch_fit(row, listeners, seconds, len(data))

    def predict(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        """The score of each (user, item) pair (as :meth:`score_items` ranks), not a rating;
        0 for an unknown code (< 0). Users are scored a bounded batch at a time."""
        user, item = np.asarray(user).ravel(), np.asarray(item).ravel()
        out = np.zeros(len(user), np.float32)
        known = np.flatnonzero((user >= 0) & (item >= 0))
        users, row = np.unique(user[known], return_inverse=True)
        batch = max(1, PREDICT_CELLS // max(self.n_items, 1))
        order = np.argsort(row, kind="stable")
        bounds = np.searchsorted(row[order], np.arange(0, len(users) + batch, batch))
        for b, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=False)):
            if lo == hi:
                continue
            scores = self.score_items(users[b * batch : (b + 1) * batch])
            pairs = known[order[lo:hi]]
            out[pairs] = scores[row[order[lo:hi]] - b * batch, item[pairs]]
        return out

    def summary(self) -> ModelSummary:
        params = self.params()
        text = (
            f"Model: {self.family!r} (top-N baseline, numpy/scipy, scores items: no ratings)\n"
            f" {self.n_users:,} users x {self.n_items:,} items, "
            f"{self.interactions.nnz:,} training interactions\n"
            f" Total params: {params:,}"
        )
        return ModelSummary(text, params, params, name=self.family)

    def save_files(self, directory: Path) -> None:
        arrays: dict[str, Any] = {
            "family": np.asarray(self.family),
            "options": np.asarray(self.options.model_dump_json()),
            **csr_arrays("interactions", self.interactions),
            **self.arrays(),
        }
        np.savez(directory / MODEL_NPZ, **arrays)

    @classmethod
    def load_files(cls, directory: Path) -> Recommender:
        from recexp.models.base import MODELS

        with np.load(directory / MODEL_NPZ) as saved:
            family = str(saved["family"])
            options = MODELS.get(family).options.model_validate_json(str(saved["options"]))
            interactions = csr_from(saved, "interactions")
            model = cls(options, *interactions.shape)
            model.interactions = interactions
            model.restore(saved)
        return model
