"""``item_knn``: item-item cosine neighbours, the classic top-N baseline (Deshpande &
Karypis 2004; Sarwar et al. 2001), sparse throughout (scipy.sparse).

With ``X`` the users x items interaction matrix (1 per interaction, or the rating with
``weighting: rating``)::

    sim(i, j) = X[:, i] . X[:, j] / (|X[:, i]| |X[:, j]| + shrinkage)     (i != j)
    score(u, j) = sum of sim(i, j) over the items i user u interacted with in training,
                  i among the ``neighbors`` items most similar to j

Only each item's ``neighbors`` most similar items are kept (per target item j, ties
broken by the lower item code; only positive similarities), so the stored matrix has at
most n_items x neighbors entries. ``weighting`` changes the similarity only: a user's
score always sums the similarities of the items the user interacted with. It predicts
no rating.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from pydantic import Field, NonNegativeFloat, PositiveInt

from recexp.models.base import MODELS, BuildContext
from recexp.models.protocol import Recommender
from recexp.models.topn import (
    TopNOptions,
    TopNRecommender,
    csr_arrays,
    csr_from,
    interaction_matrix,
)
from recexp.training.events import TrainData

if TYPE_CHECKING:
    from scipy import sparse

#: the most item x item cells of the similarity computed at once (a block of target items,
#: dense: a few float64 arrays of this size are alive at once)
BLOCK_CELLS = 4_000_000


class ItemKNNOptions(TopNOptions):
    """Item-item cosine similarity, pruned to each item's nearest neighbours."""

    family: Literal["item_knn"] = "item_knn"
    neighbors: PositiveInt = Field(100, description="similar items kept per item")
    shrinkage: NonNegativeFloat = Field(
        0.0, description="added to the norms' product: damps similarities of rare items"
    )
    weighting: Literal["binary", "rating"] = Field(
        "binary", description="the similarity's vectors: binary (1 per interaction) or rating"
    )

    def reads_rating_values(self) -> bool:
        return self.min_rating is not None or self.weighting == "rating"


def item_similarity(
    matrix: sparse.csr_matrix, neighbors: int, shrinkage: float = 0.0
) -> sparse.csr_matrix:
    """The ``(n_items, n_items)`` pruned cosine similarity: column j holds the
    ``neighbors`` items most similar to j (never j itself; ties go to the lower item
    code), computed densely a block of target items at a time so memory stays bounded."""
    from scipy import sparse

    n = matrix.shape[1]
    columns = matrix.tocsc()
    norms = np.sqrt(np.asarray(columns.multiply(columns).sum(axis=0), np.float64).ravel())
    block = max(1, BLOCK_CELLS // max(n, 1))
    rows = []  # row j: the neighbours of target item j
    for start in range(0, n, block):
        stop = min(start + block, n)
        sim = np.asarray((columns[:, start:stop].T @ columns).toarray(), np.float64)
        with np.errstate(invalid="ignore"):
            sim /= np.outer(norms[start:stop], norms) + shrinkage
        sim[np.arange(stop - start), np.arange(start, stop)] = 0.0  # not its own neighbour
        np.nan_to_num(sim, copy=False)  # an item nobody interacted with: 0 / 0
        rows.append(sparse.csr_matrix(nearest(sim, neighbors)))
    targets = sparse.vstack(rows, format="csr") if rows else sparse.csr_matrix((n, n))
    similarity = targets.T.tocsr()
    similarity.sort_indices()
    return similarity


def nearest(sim: np.ndarray, k: int) -> np.ndarray:
    """``sim`` with only each row's ``k`` largest positive entries kept (of equal entries
    at the boundary, those of the lowest columns), the rest zeroed."""
    if k < sim.shape[1]:
        kth = -np.partition(-sim, k - 1, axis=1)[:, k - 1 : k]  # each row's k-th largest
        above = sim > kth
        tied = sim == kth
        room = k - above.sum(axis=1, keepdims=True)
        sim = np.where(above | (tied & (np.cumsum(tied, axis=1) <= room)), sim, 0.0)
    return np.where(sim > 0, sim, 0.0)


class ItemKNNRecommender(TopNRecommender):
    """Scores as ``interactions[users] @ similarity`` (both sparse)."""

    family: ClassVar[str] = "item_knn"
    options: ItemKNNOptions

    def __init__(self, options: ItemKNNOptions, n_users: int, n_items: int) -> None:
        from scipy import sparse

        super().__init__(options, n_users, n_items)
        self.similarity = sparse.csr_matrix((self.n_items, self.n_items))

    def fit_matrix(self, data: TrainData) -> None:
        o = self.options
        vectors = self.interactions
        if o.weighting == "rating":
            vectors = interaction_matrix(data, o.min_rating, values="rating")
        self.similarity = item_similarity(vectors, o.neighbors, o.shrinkage)

    def score_items(self, users: np.ndarray) -> np.ndarray:
        scores = self.interactions[np.asarray(users)] @ self.similarity
        return np.asarray(scores.toarray(), np.float32)

    def params(self) -> int:
        """The most similarities stored (known before fit, as summary.json records it)."""
        return self.n_items * min(self.options.neighbors, max(self.n_items - 1, 0))

    def arrays(self) -> dict[str, np.ndarray]:
        return csr_arrays("similarity", self.similarity)

    def restore(self, saved: Any) -> None:
        self.similarity = csr_from(saved, "similarity")


@MODELS.register(
    "item_knn", options=ItemKNNOptions, help="item-item cosine neighbours (sparse, top-N)"
)
def build_item_knn(options: ItemKNNOptions, ctx: BuildContext) -> Recommender:
    return ItemKNNRecommender(options, ctx.n_users, ctx.n_items)
