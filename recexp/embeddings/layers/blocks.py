"""Block arithmetic of :class:`MixedDimensionEmbedding`, in numpy (no Keras ops)."""

from __future__ import annotations

import numpy as np


def rows_within_blocks(
    block: np.ndarray, num_blocks: int, row_order: list[int] | None
) -> np.ndarray:
    """Row of each id within its block: its rank among the block's ids in ``row_order``.

    ``block`` holds the block of each id; ``row_order`` (a permutation of the ids, default
    id order) is the order rows are laid out within every block.
    """
    order = np.arange(block.size) if row_order is None else np.asarray(row_order, np.int32)
    if row_order is not None and not np.array_equal(np.sort(order), np.arange(block.size)):
        raise ValueError(f"row_order must be a permutation of range({block.size})")
    row = np.zeros_like(block)
    for k in range(num_blocks):
        members = order[block[order] == k]
        row[members] = np.arange(members.size, dtype=np.int32)
    return row


def quotient_remainder_shape(rows: int, buckets: int) -> tuple[int, int] | None:
    """``(quotient rows, remainder rows)`` storing ``rows`` rows in ``buckets`` remainder rows.

    ``None`` when the block is stored as plain rows (``buckets == 0``) or is empty.
    """
    if not buckets or not rows:
        return None
    buckets = min(buckets, rows)
    return -(-rows // buckets), buckets
