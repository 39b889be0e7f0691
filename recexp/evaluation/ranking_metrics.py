"""Top-N metrics of one batch of users, in numpy: what each user's list scores.

Binary relevance, the definitions RecBole and Elliot use. For a user with relevant set R
(``n_rel = |R|``) and a top-k list with hits ``h_1..h_k`` (1 where the item is in R):

- ``hr@k``        1 if any hit
- ``precision@k`` hits / k
- ``recall@k``    hits / |R|
- ``ndcg@k``      sum_i h_i / log2(i + 1), over the same for min(|R|, k) hits in front
- ``map@k``       sum_i h_i * precision@i / min(|R|, k)
- ``mrr``         1 / the rank of the first relevant item in the whole ranking (not cut)

Items are ordered by score, ties by the lower item code, everywhere (top-k and MRR), so
the numbers are deterministic and match a plain ``argsort(-score, kind="stable")``.
"""

from __future__ import annotations

import numpy as np


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """The codes of each row's ``k`` highest scores, best first (ties: lower code first).

    ``scores`` is ``(batch, n_items)`` with ``-inf`` for items that are not candidates;
    a row with fewer than ``k`` candidates ends in non-candidates (score ``-inf``).
    Linear in ``n_items`` (a partition, not a sort of the whole row).
    """
    n = scores.shape[1]
    k = min(k, n)
    if k == n:
        return np.argsort(-scores, axis=1, kind="stable")
    kth = -np.partition(-scores, k - 1, axis=1)[:, k - 1 : k]  # the k-th largest score
    above = scores > kth
    ties = scores == kth
    room = k - above.sum(axis=1)  # how many items tied at the k-th score still fit
    chosen = above | ties
    crowded = np.flatnonzero(ties.sum(axis=1) > room)  # more ties than room: lower codes
    if len(crowded):
        t = ties[crowded]
        chosen[crowded] = above[crowded] | (t & (np.cumsum(t, axis=1) <= room[crowded, None]))
    picked = np.nonzero(chosen)[1].reshape(len(scores), k)  # k per row, codes ascending
    order = np.argsort(-np.take_along_axis(scores, picked, axis=1), axis=1, kind="stable")
    return np.take_along_axis(picked, order, axis=1)


def first_hit_rank(scores: np.ndarray, relevant: np.ndarray) -> np.ndarray:
    """The 1-based rank of each row's best relevant item among its candidates (finite
    scores), ties by the lower code; ``relevant`` is a boolean mask like ``scores``."""
    rel_scores = np.where(relevant, scores, -np.inf)
    best = rel_scores.max(axis=1, keepdims=True)
    better = (scores > best).sum(axis=1)
    tied = np.flatnonzero((scores == best).sum(axis=1) > 1)  # rare: a tie with the best
    if len(tied):
        first = rel_scores[tied].argmax(axis=1)[:, None]  # argmax: the lowest code
        codes = np.arange(scores.shape[1])[None, :]
        better[tied] += ((scores[tied] == best[tied]) & (codes < first)).sum(axis=1)
    return 1 + better


def at_k(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """Per-user hr, precision, recall, ndcg and map at ``k`` from ``hits`` ``(batch, >=k)``
    (boolean, best first) and each user's number of relevant items (> 0)."""
    h = hits[:, :k].astype(np.float64)
    n_hit = h.sum(axis=1)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = np.cumsum(discount)[np.minimum(n_relevant, k) - 1]
    precision_at_i = np.cumsum(h, axis=1) / np.arange(1, k + 1)
    return {
        "ndcg": (h * discount).sum(axis=1) / ideal,
        "recall": n_hit / n_relevant,
        "hr": (n_hit > 0).astype(np.float64),
        "precision": n_hit / k,
        "map": (precision_at_i * h).sum(axis=1) / np.minimum(n_relevant, k),
    }
