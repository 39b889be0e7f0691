"""Top-N lists for given users through a model's scorer: the evaluator's machinery
(batched scoring, masked items, linear-time top-k) for ``recexp recommend``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from recexp.evaluation.ranking import users_per_batch
from recexp.evaluation.ranking_metrics import top_k
from recexp.evaluation.user_items import UserItems


def top_n(
    score: Callable[[np.ndarray], np.ndarray],
    users: np.ndarray,
    k: int,
    allowed: np.ndarray,
    excluded: UserItems | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(items, scores)``, each ``(len(users), k)``: each user's ``k`` best item codes
    among ``allowed`` (a boolean per item) less their ``excluded`` items, best first.
    A user with fewer than ``k`` candidates gets code -1 and score -inf at the end."""
    n_items = len(allowed)
    k = min(k, n_items)
    step = users_per_batch(n_items)
    items = np.full((len(users), k), -1, np.int32)
    values = np.full((len(users), k), -np.inf, np.float32)
    for begin in range(0, len(users), step):
        chunk = np.asarray(users[begin : begin + step], np.int32)
        mask = np.broadcast_to(allowed, (len(chunk), n_items))
        if excluded is not None:
            mask = mask & ~excluded.dense(chunk)
        block = np.where(mask, np.asarray(score(chunk), np.float32), -np.inf)
        best = top_k(block, k)
        got = np.take_along_axis(block, best, axis=1)
        items[begin : begin + len(chunk)] = np.where(np.isfinite(got), best, -1)
        values[begin : begin + len(chunk)] = got
    return items, values
