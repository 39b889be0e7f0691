"""Each user's items as compressed rows (CSR in numpy): the training items a ranking
masks, the held-out items it counts as relevant. Dense only one batch of users at a time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class UserItems:
    """``indices[indptr[u]:indptr[u + 1]]`` are user ``u``'s item codes (sorted, unique)."""

    indptr: np.ndarray
    indices: np.ndarray
    n_items: int

    @classmethod
    def from_pairs(
        cls, user: np.ndarray, item: np.ndarray, n_users: int, n_items: int
    ) -> UserItems:
        keep = (user >= 0) & (item >= 0)
        key = np.sort(user[keep].astype(np.int64) * n_items + item[keep])
        key = key[np.concatenate([[True], key[1:] != key[:-1]])] if len(key) else key
        rows, cols = np.divmod(key, n_items)
        indptr = np.zeros(n_users + 1, np.int64)
        np.cumsum(np.bincount(rows, minlength=n_users), out=indptr[1:])
        return cls(indptr, cols.astype(np.int32), n_items)

    def counts(self) -> np.ndarray:
        return np.diff(self.indptr)

    def dense(self, users: np.ndarray) -> np.ndarray:
        """A ``(len(users), n_items)`` boolean mask of the users' items."""
        mask = np.zeros((len(users), self.n_items), dtype=bool)
        starts, ends = self.indptr[users], self.indptr[users + 1]
        lengths = ends - starts
        if lengths.sum():
            rows = np.repeat(np.arange(len(users)), lengths)
            offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
            mask[rows, self.indices[np.repeat(starts, lengths) + offsets]] = True
        return mask

    def union(self, other: UserItems) -> UserItems:
        n_users = len(self.indptr) - 1
        users = np.concatenate([self.rows(), other.rows()])
        items = np.concatenate([self.indices, other.indices])
        return UserItems.from_pairs(users, items, n_users, self.n_items)

    def rows(self) -> np.ndarray:
        """The user code of every entry of ``indices``."""
        return np.repeat(np.arange(len(self.indptr) - 1, dtype=np.int32), self.counts())
