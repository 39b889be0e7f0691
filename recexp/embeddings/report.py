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

    Each entry holds ``name``, then what the layer's
    :meth:`~recexp.embeddings.layers.EmbeddingTable.table_report` gives: ``strategy``,
    ``vocabulary`` (ids served), ``rows`` (rows stored), ``dim`` (output size) and the
    strategy's own keys (hashing: ``colliding_ids``, ``bins_used``; mixed-dimension:
    ``block_sizes``, ``block_dims``, ``block_rows``, and ``block_buckets`` when some block is
    stored with the quotient-remainder trick); then ``parameters``, ``bytes`` (as stored, 4
    per float32) and ``compression``: the parameters a full ``vocabulary x dim`` table would
    take, divided by ``parameters``. A plain ``keras.layers.Embedding`` reports as ``full``.
    Tables whose layer is not built yet report 0 parameters and bytes and a
    ``compression`` of ``None``.
    """
    import keras

    from recexp.embeddings.layers import EmbeddingTable

    report = []
    for layer in _walk(model, set()):
        if isinstance(layer, EmbeddingTable):
            entry = layer.table_report()
        elif isinstance(layer, keras.layers.Embedding):
            entry = {
                "strategy": "full",
                "vocabulary": int(layer.input_dim),
                "rows": int(layer.input_dim),
                "dim": int(layer.output_dim),
            }
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
