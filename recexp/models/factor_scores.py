"""Top-N scores of the dot-product families as one matmul per batch of users (imports
Keras): ``mf`` (``p_u . q_i + b_i``), ``gmf`` (``(p_u * w) . q_i``) and ``two_tower``
(query tower . candidate tower).

The item side is computed once per evaluation, through the item table's own layer, so
every embedding strategy (quotient-remainder, mixed-dimension, hashing) is scored as it
predicts. Terms that are the same for every item of a user (the user bias, the global
mean, the output bias) and monotone output activations (relu, sigmoid) do not change a
user's order of items and are left out: a score here is a ranking score, not a rating.
Other families are scored by the generic tiled ``predict`` of
:meth:`recexp.models.protocol.Recommender.score_items`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np

Scorer = Callable[[np.ndarray], np.ndarray]
TOWERS = ("query_tower", "candidate_tower")


def _layer(model: Any, name: str) -> Any:
    try:
        return model.get_layer(name)
    except ValueError:
        return None


def _vectors(layer: Any, codes: np.ndarray, batch: int = 65_536) -> np.ndarray:
    """``layer`` applied to ``codes`` in batches, flattened to ``(len(codes), dim)``."""
    parts = [
        keras.ops.convert_to_numpy(layer(codes[i : i + batch].reshape(-1, 1)))
        for i in range(0, len(codes), batch)
    ]
    out = np.concatenate(parts) if parts else np.zeros((0, 1), np.float32)
    return out.reshape(len(codes), -1).astype(np.float32)


def factor_scorer(model: Any, n_items: int) -> Scorer | None:
    """A matmul scorer for ``model`` when it is a dot-product family, else None."""
    items = np.arange(n_items, dtype=np.int32)
    query, candidate = (_layer(model, name) for name in TOWERS)
    if query is not None and candidate is not None:
        return _dot(query, _vectors(candidate, items))
    user_table, item_table = _layer(model, "user_embedding"), _layer(model, "item_embedding")
    if user_table is None or item_table is None:
        return None
    if model.name == "mf":
        bias = _layer(model, "item_bias")
        offset = _vectors(bias, items)[:, 0] if bias is not None else None
        return _dot(user_table, _vectors(item_table, items), offset)
    if model.name == "gmf":
        kernel = np.asarray(_layer(model, "prediction").get_weights()[0], np.float32)[:, 0]
        return _dot(user_table, _vectors(item_table, items) * kernel[None, :])
    return None


def _dot(user_side: Any, item_factors: np.ndarray, offset: np.ndarray | None = None) -> Scorer:
    right = np.ascontiguousarray(item_factors.T)

    def score(users: np.ndarray) -> np.ndarray:
        block = _vectors(user_side, users.astype(np.int32)) @ right
        return block + offset[None, :] if offset is not None else block

    return score
