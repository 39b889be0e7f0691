"""One sparse rating vector per item (or per user), built once from the encoded train codes.

Autoencoder families (AutoRec, GLocal-K) read whole rows of the rating matrix; SVD++
reads each user's set of rated items N(u). Both come from the same compressed-row
layout (CSR as three numpy arrays, no scipy needed)::

    vectors = RatingVectors.build(train.user, train.item, rating, n_users, n_items, by="item")
    vectors.indices[vectors.indptr[i] : vectors.indptr[i + 1]]   # the users who rated item i
    vectors.dense(rows)                                            # (len(rows), n_users) slice

Memory is O(ratings); only :meth:`dense` of a batch of rows (or :meth:`to_dense` on data
known to be small) allocates a dense block.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

Axis = Literal["item", "user"]


@dataclass(frozen=True)
class RatingVectors:
    """Compressed rows of the train rating matrix: one row per item (``by="item"``) or user."""

    indptr: np.ndarray  # int64, (n_rows + 1,)
    indices: np.ndarray  # int32, column codes, sorted within each row
    values: np.ndarray  # float32 ratings (training units)
    n_cols: int
    by: Axis

    @classmethod
    def build(
        cls,
        user: np.ndarray,
        item: np.ndarray,
        rating: np.ndarray,
        n_users: int,
        n_items: int,
        by: Axis = "item",
    ) -> RatingVectors:
        """Rows from (user, item, rating) codes; a repeated (user, item) keeps its last rating."""
        user = np.asarray(user, np.int64)
        item = np.asarray(item, np.int64)
        if len(user) and (user.min() < 0 or item.min() < 0):
            raise ValueError("rating vectors are built from train codes only (no -1 codes)")
        rows, cols = (item, user) if by == "item" else (user, item)
        n_rows, n_cols = (n_items, n_users) if by == "item" else (n_users, n_items)
        key = rows * n_cols + cols
        # last occurrence of each key wins: unique on the reversed array
        rev = key[::-1]
        _, first_in_rev = np.unique(rev, return_index=True)
        keep = len(key) - 1 - first_in_rev  # sorted by key, i.e. by row then column
        rows, cols = rows[keep], cols[keep]
        values = np.asarray(rating, np.float32)[keep]
        indptr = np.zeros(n_rows + 1, np.int64)
        np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
        return cls(indptr, cols.astype(np.int32), values, int(n_cols), by)

    @property
    def n_rows(self) -> int:
        return len(self.indptr) - 1

    @property
    def nnz(self) -> int:
        return len(self.indices)

    def lengths(self) -> np.ndarray:
        """Observed entries per row."""
        return np.diff(self.indptr)

    def row_ids(self) -> np.ndarray:
        """The row code of every stored entry (COO rows)."""
        return np.repeat(np.arange(self.n_rows, dtype=np.int32), self.lengths())

    def row(self, r: int) -> tuple[np.ndarray, np.ndarray]:
        """Column codes and values of one row."""
        a, b = self.indptr[r], self.indptr[r + 1]
        return self.indices[a:b], self.values[a:b]

    def dense(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Dense (len(rows), n_cols) ratings and 0/1 mask of the observed entries."""
        rows = np.asarray(rows, np.int64)
        lengths = self.lengths()[rows]
        starts = self.indptr[rows]
        pos = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        out_rows = np.repeat(np.arange(len(rows)), lengths)
        ratings = np.zeros((len(rows), self.n_cols), np.float32)
        mask = np.zeros((len(rows), self.n_cols), np.float32)
        ratings[out_rows, self.indices[pos]] = self.values[pos]
        mask[out_rows, self.indices[pos]] = 1.0
        return ratings, mask

    def to_dense(self) -> tuple[np.ndarray, np.ndarray]:
        """The whole matrix: only for data known to be small (ML-100K: 1682 x 943)."""
        return self.dense(np.arange(self.n_rows))

    def lookup(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Stored value at each (row, col), NaN where the entry is not observed."""
        rows = np.asarray(rows, np.int64)
        cols = np.asarray(cols, np.int64)
        key = np.repeat(np.arange(self.n_rows, dtype=np.int64), self.lengths()) * self.n_cols
        key += self.indices
        want = rows * self.n_cols + cols
        pos = np.searchsorted(key, want)
        pos = np.minimum(pos, max(len(key) - 1, 0))
        found = (key[pos] == want) if len(key) else np.zeros(len(want), bool)
        return np.where(found, self.values[pos] if len(key) else 0.0, np.nan).astype(np.float32)

    def padded(self, max_len: int | None = None, pad: int = -1) -> tuple[np.ndarray, np.ndarray]:
        """(n_rows, L) column codes right-padded with ``pad``, and the true lengths.

        ``max_len`` truncates long rows (keeps the first ``max_len`` columns).
        """
        lengths = self.lengths()
        width = int(lengths.max(initial=0) if max_len is None else max_len)
        out = np.full((self.n_rows, width), pad, np.int32)
        kept = np.minimum(lengths, width)
        rows = np.repeat(np.arange(self.n_rows), kept)
        offset = np.arange(kept.sum()) - np.repeat(np.cumsum(kept) - kept, kept)
        src = np.repeat(self.indptr[:-1], kept) + offset
        out[rows, offset] = self.indices[src]
        return out, kept.astype(np.int32)

    def save(self, path: Path) -> None:
        np.savez(
            path,
            indptr=self.indptr,
            indices=self.indices,
            values=self.values,
            n_cols=np.int64(self.n_cols),
            by=np.array(self.by),
        )

    @classmethod
    def load(cls, path: Path) -> RatingVectors:
        with np.load(path) as z:
            by = str(z["by"])
            return cls(
                z["indptr"],
                z["indices"],
                z["values"],
                int(z["n_cols"]),
                "item" if by == "item" else "user",
            )
