"""Training frequency of ids, for the strategies that lay rows out by popularity.

``TableRequest.counts`` holds each id's training ratings; mixed-dim cuts its blocks along
this order and quotient-remainder (``order: frequency``) splits each id's rank in it.
"""

from __future__ import annotations

import numpy as np


def popularity_order(counts: np.ndarray | None, vocab: int) -> np.ndarray:
    """Ids most rated first; ties (and a missing ``counts``) keep id order."""
    if counts is None:
        return np.arange(vocab)
    return np.argsort(-np.asarray(counts, dtype=np.int64), kind="stable")
