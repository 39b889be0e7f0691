"""A two-tower model scored also as a retriever: top-k accuracy, recall@k, NDCG@k
(keras-rs), besides its rating predictions (imports Keras)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np

from recexp.models.keras_model import KerasRecommender, load_keras_model
from recexp.models.protocol import EvalPairs, Recommender
from recexp.runs import MODEL_KERAS

QUERY_TOWER = "query_tower"
CANDIDATE_TOWER = "candidate_tower"


class TwoTowerRecommender(KerasRecommender):
    """A two-tower rating model whose towers also retrieve each user's top ``k`` items."""

    def __init__(self, model: keras.Model, k: int = 100, threshold: float | None = None):
        super().__init__(model)
        self.k, self.threshold = k, threshold

    def extra_metrics(self, pairs: EvalPairs) -> dict[str, Any] | None:
        threshold = self.threshold or pairs.rating_max
        return retrieval_metrics(
            self.model, pairs.user, pairs.item, pairs.rating, pairs.n_items, self.k, threshold
        )

    @classmethod
    def load_files(cls, directory: Path) -> Recommender:
        return cls(load_keras_model(directory / MODEL_KERAS))


def retrieval_metrics(
    model: Any,
    user_codes: np.ndarray,
    item_codes: np.ndarray,
    ratings: np.ndarray,
    n_items: int,
    k: int = 100,
    threshold: float = 5.0,
    batch_size: int = 256,
) -> dict[str, float]:
    """Evaluate a two-tower model as a top-``k`` retriever over all ``n_items`` items.

    The candidate tower embeds every item code, ``keras_rs.layers.BruteForceRetrieval``
    retrieves each user's top ``k`` by dot product (no item is excluded, as seed 003),
    and the test pairs with ``rating >= threshold`` (same units as ``ratings``; seed 003:
    rating 5) are the relevant ones.

    Returns ``top_k_accuracy`` (seed 003's metric: the fraction of relevant pairs whose
    item is in the user's top ``k``), ``recall_at_k`` and ``ndcg_at_k`` (keras_rs
    ``RecallAtK`` and ``NDCG`` with binary relevance, averaged over users with at least
    one relevant pair), ``k`` (capped at ``n_items``), ``n_pairs`` and ``n_users`` (the
    relevant pairs and their users). With no relevant pair the three metrics are NaN.
    ``batch_size`` users are scored at once (a ``batch_size x n_items`` score matrix).
    """
    try:
        query_tower = model.get_layer(QUERY_TOWER)
        candidate_tower = model.get_layer(CANDIDATE_TOWER)
    except ValueError:
        raise ValueError(
            f"retrieval_metrics: model {model.name!r} has no {QUERY_TOWER!r} and "
            f"{CANDIDATE_TOWER!r} sub-models; expected a two_tower model"
        ) from None
    k = min(k, n_items)
    relevant = np.asarray(ratings, dtype="float64") >= threshold
    users_of_pairs = np.asarray(user_codes, dtype="int64")[relevant]
    items_of_pairs = np.asarray(item_codes, dtype="int64")[relevant]
    users, pair_user = np.unique(users_of_pairs, return_inverse=True)
    result: dict[str, float] = {"k": k, "n_pairs": int(relevant.sum()), "n_users": len(users)}
    if not len(users):
        return {**result, "top_k_accuracy": np.nan, "recall_at_k": np.nan, "ndcg_at_k": np.nan}
    codes = np.arange(n_items, dtype="int32").reshape(-1, 1)
    candidates = candidate_tower.predict(codes, batch_size=batch_size, verbose=0)
    queries = query_tower.predict(
        users.astype("int32").reshape(-1, 1), batch_size=batch_size, verbose=0
    )
    scored = _score_batches(queries, candidates, pair_user, items_of_pairs, k, batch_size)
    return {**result, **scored}


def _score_batches(
    queries: np.ndarray,
    candidates: np.ndarray,
    pair_user: np.ndarray,
    items_of_pairs: np.ndarray,
    k: int,
    batch_size: int,
) -> dict[str, float]:
    """Retrieve ``batch_size`` users at a time; hits, recall@k and NDCG@k over all of them."""
    import keras_rs

    n_items = len(candidates)
    retrieval = keras_rs.layers.BruteForceRetrieval(candidates, k=k, return_scores=False)
    recall = keras_rs.metrics.RecallAtK(k=k, shuffle_ties=False)
    ndcg = keras_rs.metrics.NDCG(k=k, shuffle_ties=False)
    hits = np.zeros(len(items_of_pairs), dtype=bool)
    for start in range(0, len(queries), batch_size):
        batch = slice(start, start + batch_size)
        top = keras.ops.convert_to_numpy(retrieval(queries[batch]))
        in_batch = (pair_user >= start) & (pair_user < start + len(top))
        rows = pair_user[in_batch] - start
        hits[in_batch] = (top[rows] == items_of_pairs[in_batch, None]).any(axis=1)
        labels = np.zeros((len(top), n_items), dtype="float32")
        labels[rows, items_of_pairs[in_batch]] = 1.0
        scores = retrieval.compute_score(queries[batch], candidates)
        recall.update_state(labels, scores)
        ndcg.update_state(labels, scores)
    return {
        "top_k_accuracy": float(hits.mean()),
        "recall_at_k": float(recall.result()),
        "ndcg_at_k": float(ndcg.result()),
    }
