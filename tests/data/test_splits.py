"""Split strategies: disjoint, sized as asked, fixed by the seed, per-user and time rules."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from pydantic import TypeAdapter, ValidationError

from recexp.data.base import (
    ByUserSplit,
    PredefinedSplit,
    RandomSplit,
    SplitOptions,
    TemporalSplit,
)
from recexp.data.ratings import Ratings, RatingScale
from recexp.data.splits import SplitIndex, fold_splits, split
from recexp.errors import DataError

SPLIT = TypeAdapter(SplitOptions)


def ratings(n_users: int = 30, per_user: int = 12, seed: int = 0) -> Ratings:
    """Users 0..n-1 with 1..per_user ratings each, distinct items, shuffled timestamps."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, per_user + 1, n_users)
    users = np.repeat(np.arange(n_users), counts)
    items = np.concatenate([rng.permutation(50)[:c] for c in counts])
    frame = pd.DataFrame(
        {
            "user": users.astype(np.int32),
            "item": items.astype(np.int32),
            "rating": rng.integers(1, 6, len(users)).astype(np.float32),
            "timestamp": rng.permutation(len(users)).astype(np.int64) * 10,
        }
    )
    return Ratings(frame, RatingScale(1, 5, 1))


def check_partition(index: SplitIndex, n: int) -> None:
    parts = np.concatenate([index.train, index.val, index.test])
    assert len(parts) == n and len(np.unique(parts)) == n  # disjoint and complete
    for part in (index.train, index.val, index.test):
        assert np.all(np.diff(part) > 0)  # sorted


def by_user(r: Ratings, rows: np.ndarray) -> pd.Series:
    return r.frame.iloc[rows].groupby("user").size()


def test_random_sizes_and_determinism() -> None:
    r = ratings()
    n = len(r.frame)
    a = split(r, RandomSplit(val=0.1, test=0.2), seed=7)
    check_partition(a, n)
    assert len(a.test) == round(n * 0.2) and len(a.val) == round(n * 0.1)
    b = split(r, RandomSplit(val=0.1, test=0.2), seed=7)
    assert np.array_equal(a.test, b.test) and np.array_equal(a.val, b.val)
    assert not np.array_equal(a.test, split(r, RandomSplit(val=0.1, test=0.2), seed=8).test)


def test_random_kfold_covers_every_row_once() -> None:
    r = ratings()
    n = len(r.frame)
    folds = [split(r, s, seed=3) for s in fold_splits(RandomSplit(folds=4, val=0.1))]
    assert len(folds) == 4
    tests = np.concatenate([f.test for f in folds])
    assert np.array_equal(np.sort(tests), np.arange(n))
    for f in folds:
        check_partition(f, n)
        assert abs(len(f.test) - n / 4) <= 1 and len(f.val) == round(n * 0.1)


def test_validation_split_carves_train_only() -> None:
    r = ratings()
    plain = split(r, RandomSplit(val=0.0, test=0.2), seed=1)
    carved = split(r, RandomSplit(test=0.2, validation_split=0.25), seed=1)
    assert np.array_equal(plain.test, carved.test)
    assert len(carved.val) == round(len(plain.train) * 0.25)
    assert set(carved.val) | set(carved.train) == set(plain.train)


@pytest.mark.parametrize(
    "options",
    [ByUserSplit(test=0.25, val=0.1), ByUserSplit(test_k=2, val_k=1), ByUserSplit(folds=3)],
)
def test_by_user_keeps_a_training_rating_for_every_user(options: ByUserSplit) -> None:
    r = ratings()
    index = split(r, options, seed=5)
    check_partition(index, len(r.frame))
    train_users = set(r.frame.iloc[index.train]["user"])
    assert set(r.frame.iloc[index.test]["user"]) <= train_users
    assert set(r.frame.iloc[index.val]["user"]) <= train_users
    assert train_users == set(r.frame["user"])  # no user lost
    assert np.array_equal(index.test, split(r, options, seed=5).test)


def test_leave_k_out_sizes() -> None:
    r = ratings()
    index = split(r, ByUserSplit(test_k=2, val_k=1), seed=0)
    sizes = r.frame.groupby("user").size()
    test = by_user(r, index.test).reindex(sizes.index, fill_value=0)
    val = by_user(r, index.val).reindex(sizes.index, fill_value=0)
    assert (test == np.minimum(2, sizes - 1)).all()
    assert (val == np.clip(sizes - 1 - test, 0, 1)).all()


def test_by_user_fraction_rounds_per_user() -> None:
    frame = pd.DataFrame({"user": [1] * 10 + [2] * 4, "item": range(14), "rating": 3.0})
    r = Ratings(frame, RatingScale(1, 5, 1))
    index = split(r, ByUserSplit(test=0.3), seed=0)
    assert by_user(r, index.test).to_dict() == {1: 3, 2: 1}


def test_by_user_kfold_tests_every_rating_of_multi_rating_users_once() -> None:
    r = ratings()
    folds = [split(r, s, seed=2) for s in fold_splits(ByUserSplit(folds=3))]
    tests = np.sort(np.concatenate([f.test for f in folds]))
    counts = r.frame.groupby("user")["user"].transform("size").to_numpy()
    assert np.array_equal(tests, np.flatnonzero(counts >= 2))


def test_temporal_global_cut_respects_time() -> None:
    r = ratings()
    n = len(r.frame)
    index = split(r, TemporalSplit(test=0.2, val=0.1), seed=0)
    check_partition(index, n)
    ts = r.frame["timestamp"].to_numpy()
    assert len(index.test) == round(n * 0.2) and len(index.val) == round(n * 0.1)
    train, val, test = ts[index.train], ts[index.val], ts[index.test]
    assert train.max() <= val.min() <= val.max() <= test.min()
    assert index.info["test_from_timestamp"] == ts[index.test].min()


def test_temporal_last_k_per_user() -> None:
    r = ratings()
    index = split(r, TemporalSplit(test_k=2, val_k=1), seed=0)
    check_partition(index, len(r.frame))
    frame = r.frame.assign(part="train")
    frame.loc[index.val, "part"] = "val"
    frame.loc[index.test, "part"] = "test"
    for _, rows in frame.groupby("user"):
        latest = {p: rows.loc[rows.part == p, "timestamp"] for p in ("train", "val", "test")}
        assert len(latest["train"]) >= 1
        if len(latest["test"]):
            assert latest["train"].max() < latest["test"].min()
        if len(latest["val"]):
            assert latest["train"].max() < latest["val"].min() < latest["test"].min()


def test_temporal_needs_timestamps() -> None:
    r = ratings()
    r.frame = r.frame.drop(columns="timestamp")
    with pytest.raises(DataError, match="needs timestamps"):
        split(r, TemporalSplit(), seed=0)


def test_predefined_uses_part_column_and_val_fraction() -> None:
    frame = pd.DataFrame({"user": range(10), "item": 1, "rating": 3.0, "part": [0] * 8 + [2] * 2})
    r = Ratings(frame, RatingScale(1, 5, 1))
    index = split(r, PredefinedSplit(train="a.csv", test="b.csv", val=0.25), seed=0)
    assert list(index.test) == [8, 9] and len(index.val) == 2 and len(index.train) == 6


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"strategy": "random", "folds": 3, "fold": 3}, "fold must be below folds=3"),
        ({"strategy": "random", "fold": 1}, "fold needs folds"),
        ({"strategy": "random", "folds": 3, "test": 0.2}, "drop test / test_k"),
        ({"strategy": "random", "val": 0.2, "validation_split": 0.2}, "either val or validation"),
        ({"strategy": "by_user", "test": 0.3, "test_k": 1}, "either test or test_k"),
        ({"strategy": "temporal", "val_k": 1}, "val_k needs test_k"),
        ({"strategy": "predefined"}, "give fold"),
        ({"strategy": "predefined", "fold": "u1", "train": "x"}, "not both"),
        ({"strategy": "random", "val": 0.5, "test": 0.5}, "val + test must be below 1"),
        ({"strategy": "shuffle"}, "does not match any of the expected tags"),
    ],
)
def test_bad_split_options(data: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        SPLIT.validate_python(data)


@pytest.mark.parametrize(
    "options",
    [
        RandomSplit(folds=5, fold=2, validation_split=0.2),
        ByUserSplit(test_k=1, val_k=1),
        TemporalSplit(test_k=2, validation_split=0.1),
        PredefinedSplit(fold="u1", val=0.1),
    ],
)
def test_resolved_split_validates_again(options: SplitOptions) -> None:
    """The run directory's resolved spec holds every default; it must load again."""
    assert SPLIT.validate_python(options.model_dump(mode="json")) == options


def test_strategy_defaults_to_random() -> None:
    assert isinstance(SPLIT.validate_python({"val": 0.2}), RandomSplit)
    assert fold_splits(RandomSplit()) == [RandomSplit()]
