"""Split strategies: index arrays for train, val and test, fixed by the seed.

K-fold: a split with ``folds: K`` computes the one fold named by ``fold``; the runner
loops over :func:`fold_splits` and starts one child run per fold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from recexp.data.base import (
    ByUserSplit,
    LeaveOneOutSplit,
    PredefinedSplit,
    RandomSplit,
    SplitOptions,
    TemporalSplit,
)
from recexp.data.ratings import Ratings
from recexp.errors import DataError

TRAIN, VAL, TEST = 0, 1, 2


@dataclass(frozen=True)
class SplitIndex:
    """Row positions into the ratings frame; disjoint, each sorted ascending."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)


def _from_labels(labels: np.ndarray, **info: Any) -> SplitIndex:
    train, val, test = (np.flatnonzero(labels == k) for k in (TRAIN, VAL, TEST))
    return SplitIndex(train, val, test, info)


def fold_splits(options: SplitOptions) -> list[SplitOptions]:
    """One split per fold when ``folds`` is set (fold 0..K-1), else just ``options``."""
    folds = getattr(options, "folds", None)
    if not folds:
        return [options]
    return [options.model_copy(update={"fold": i}) for i in range(folds)]


def split_random(n: int, options: RandomSplit, seed: int) -> SplitIndex:
    """Shuffle ``n`` rows with ``seed`` and cut off ``test`` (or fold ``fold``) then ``val``."""
    order = np.random.default_rng(seed).permutation(n)
    val_fraction = 0.0 if options.validation_split is not None else options.val
    n_val = int(round(n * val_fraction))
    if options.folds:
        bounds = np.linspace(0, n, options.folds + 1).round().astype(np.int64)
        lo, hi = bounds[options.fold], bounds[options.fold + 1]
        test, rest = order[lo:hi], np.concatenate([order[:lo], order[hi:]])
    else:
        n_test = int(round(n * options.test))
        test, rest = order[:n_test], order[n_test:]
    return SplitIndex(np.sort(rest[n_val:]), np.sort(rest[:n_val]), np.sort(test))


def _rank_in_group(groups: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's 0-based rank by ``key`` within its group, and its group's size."""
    order = np.lexsort((key, groups))
    sorted_groups = groups[order]
    new = np.r_[True, sorted_groups[1:] != sorted_groups[:-1]]
    starts = np.flatnonzero(new)
    sizes = np.diff(np.r_[starts, len(order)])
    group = np.cumsum(new) - 1
    rank = np.empty(len(order), np.int64)
    size = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order)) - starts[group]
    size[order] = sizes[group]
    return rank, size


def _count(size: np.ndarray, fraction: float, k: int | None, cap: np.ndarray) -> np.ndarray:
    wanted = np.full(size.shape, k) if k is not None else np.floor(size * fraction + 0.5)
    return np.clip(wanted.astype(np.int64), 0, np.maximum(cap, 0))


def _per_user_tail(
    users: np.ndarray,
    key: np.ndarray,
    test: float,
    test_k: int | None,
    val: float,
    val_k: int | None,
) -> np.ndarray:
    """Labels: each user's last ratings by ``key`` to test, the ones before to val."""
    rank, size = _rank_in_group(users, key)
    n_test = _count(size, test, test_k, size - 1)
    n_val = _count(size, val, val_k, size - 1 - n_test)
    labels = np.full(len(users), TRAIN, np.int8)
    labels[rank >= size - n_test - n_val] = VAL
    labels[rank >= size - n_test] = TEST
    return labels


def _user_codes(ratings: Ratings) -> np.ndarray:
    return pd.factorize(ratings.frame["user"])[0]


def split_by_user(ratings: Ratings, options: ByUserSplit, seed: int) -> SplitIndex:
    """Per user, at random: ``test`` / ``test_k`` (or fold ``fold``) to test, then val."""
    users = _user_codes(ratings)
    rng = np.random.default_rng(seed)
    key = rng.random(len(users))
    val = 0.0 if options.validation_split is not None else options.val
    val_k = None if options.validation_split is not None else options.val_k
    if not options.folds:
        labels = _per_user_tail(users, key, options.test, options.test_k, val, val_k)
        return _from_labels(labels)
    rank, size = _rank_in_group(users, key)
    offset = rng.integers(options.folds, size=users.max(initial=-1) + 1)[users]
    in_test = ((rank + offset) % options.folds == options.fold) & (size >= 2)
    labels = np.where(in_test, TEST, TRAIN).astype(np.int8)
    rest = np.flatnonzero(~in_test)
    rest_rank, rest_size = _rank_in_group(users[rest], key[rest])
    n_val = _count(size[rest], val, val_k, rest_size - 1)
    labels[rest[rest_rank >= rest_size - n_val]] = VAL
    return _from_labels(labels)


def split_temporal(ratings: Ratings, options: TemporalSplit) -> SplitIndex:
    """Latest ``test`` fraction of all ratings, or each user's last ``test_k``, to test."""
    frame = ratings.frame
    if "timestamp" not in frame.columns:
        raise DataError(
            "the temporal split needs timestamps and this dataset has none",
            key="dataset.split.strategy",
            got="temporal",
        )
    time = frame["timestamp"].to_numpy()
    order = np.argsort(time, kind="stable")
    if options.test_k is not None:
        position = np.empty(len(order), np.int64)
        position[order] = np.arange(len(order))
        val, val_k = options.val, options.val_k
        if options.validation_split is not None:
            val, val_k = 0.0, None
        labels = _per_user_tail(_user_codes(ratings), position, 0.0, options.test_k, val, val_k)
        return _from_labels(labels)
    n = len(order)
    n_test = int(round(n * options.test))
    n_val = 0 if options.validation_split is not None else int(round(n * options.val))
    labels = np.full(n, TRAIN, np.int8)
    labels[order[n - n_test - n_val :]] = VAL
    labels[order[n - n_test :]] = TEST
    cut = int(time[order[n - n_test]]) if n_test else None
    return _from_labels(labels, test_from_timestamp=cut)


def split_leave_one_out(ratings: Ratings, options: LeaveOneOutSplit, seed: int) -> SplitIndex:
    """Each user's last ``test_k`` ratings (by time, ties at random; or at random) to test,
    the ``val_k`` before them to validation."""
    frame = ratings.frame
    noise = np.random.default_rng([seed, 2]).random(len(frame))
    timed = options.by == "time" and "timestamp" in frame.columns
    order = np.lexsort((noise, frame["timestamp"].to_numpy())) if timed else np.argsort(noise)
    position = np.empty(len(order), np.int64)
    position[order] = np.arange(len(order))
    users = _user_codes(ratings)
    labels = _per_user_tail(users, position, 0.0, options.test_k, 0.0, options.val_k)
    return _from_labels(labels, by="time" if timed else "random")


def split_predefined(ratings: Ratings, options: PredefinedSplit, seed: int) -> SplitIndex:
    """Train and test as the loader marked them (column ``part``); val from train at random."""
    if "part" not in ratings.frame.columns:
        raise DataError("the predefined split needs ratings loaded with their parts")
    part = ratings.frame["part"].to_numpy()
    train, test = np.flatnonzero(part == TRAIN), np.flatnonzero(part == TEST)
    index = SplitIndex(train, np.empty(0, np.int64), test)
    return carve_validation(index, options.val, seed) if options.val else index


def carve_validation(index: SplitIndex, fraction: float, seed: int) -> SplitIndex:
    """Move a random ``fraction`` of the training rows into validation."""
    rng = np.random.default_rng([seed, 1])
    pick = rng.permutation(len(index.train))[: int(round(len(index.train) * fraction))]
    moved = np.zeros(len(index.train), bool)
    moved[pick] = True
    val = np.sort(np.concatenate([index.val, index.train[moved]]))
    return SplitIndex(index.train[~moved], val, index.test, index.info)


def split(ratings: Ratings, options: SplitOptions, seed: int) -> SplitIndex:
    """Dispatch on ``options.strategy``, then apply ``validation_split`` if set."""
    if isinstance(options, ByUserSplit):
        index = split_by_user(ratings, options, seed)
    elif isinstance(options, TemporalSplit):
        index = split_temporal(ratings, options)
    elif isinstance(options, PredefinedSplit):
        index = split_predefined(ratings, options, seed)
    elif isinstance(options, LeaveOneOutSplit):
        index = split_leave_one_out(ratings, options, seed)
    else:
        index = split_random(len(ratings.frame), options, seed)
    if options.validation_split is not None:
        index = carve_validation(index, options.validation_split, seed)
    return index
