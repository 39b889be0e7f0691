"""How much memory each embedding table of a built model takes, for summary/metrics files.

Imports Keras inside :func:`embedding_report` only, so importing this module is cheap.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np


def _walk(layer: Any, seen: set[int]) -> Iterator[Any]:
    for sub in getattr(layer, "layers", None) or []:
        if id(sub) in seen:
            continue
        seen.add(id(sub))
        yield sub
        yield from _walk(sub, seen)


def embedding_report(model: Any) -> list[dict[str, Any]]:
    """One entry per embedding table in ``model`` (strategy layers and ``keras.layers.Embedding``).

    Each entry holds ``name``, ``strategy``, ``vocabulary`` (ids served), ``rows`` (rows
    stored), ``dim`` (output size), ``parameters``, ``bytes`` (as stored, 4 per float32)
    and ``compression``: the parameters a full ``vocabulary x dim`` table would take,
    divided by ``parameters``. Hashing tables add ``colliding_ids`` and ``bins_used``;
    mixed-dimension tables add ``block_sizes``, ``block_dims``, ``block_rows`` (and
    ``block_buckets`` when some block is stored with the quotient-remainder trick).
    Tables whose layer is not built yet report 0 parameters and bytes and a
    ``compression`` of ``None``.
    """
    import keras

    report = []
    for layer in _walk(model, set()):
        if isinstance(layer, keras.layers.Embedding):
            entry: dict[str, Any] = {
                "strategy": "full",
                "vocabulary": int(layer.input_dim),
                "rows": int(layer.input_dim),
                "dim": int(layer.output_dim),
            }
        elif getattr(layer, "strategy", None) and hasattr(layer, "rows"):
            vocab = getattr(layer, "vocabulary_size", None)
            entry = {
                "strategy": layer.strategy,
                "vocabulary": None if vocab is None else int(vocab),
                "rows": int(layer.rows),
                "dim": int(layer.output_dim),
            }
            if getattr(layer, "collisions", None) is not None:
                entry.update(layer.collisions)
            if hasattr(layer, "block_sizes"):
                entry["block_sizes"] = list(layer.block_sizes)
                entry["block_dims"] = list(layer.block_dims)
                entry["block_rows"] = list(layer.block_rows)
                if any(getattr(layer, "block_buckets", None) or []):
                    entry["block_buckets"] = list(layer.block_buckets)
        else:
            continue
        weights = layer.weights
        params = int(sum(np.prod(w.shape) for w in weights))
        full = None if entry["vocabulary"] is None else entry["vocabulary"] * entry["dim"]
        entry = {"name": layer.name, **entry}
        entry["parameters"] = params
        entry["bytes"] = int(sum(np.prod(w.shape) * np.dtype(w.dtype).itemsize for w in weights))
        entry["compression"] = round(full / params, 4) if full and params else None
        report.append(entry)
    return report
