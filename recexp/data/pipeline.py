"""Load -> filter -> split -> encode -> transform: a dataset ready for any model."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from recexp.data.base import DATASETS, DatasetOptions, FileDatasetOptions, PredefinedSplit
from recexp.data.encoding import IdEncoder
from recexp.data.ratings import Ratings, RatingScale
from recexp.data.splits import TEST, TRAIN, SplitIndex, split
from recexp.errors import ConfigError, DataError


@dataclass(frozen=True)
class Part:
    """One part of a split: codes (-1 for ids outside the vocabulary), ratings in rating units.

    With ``dataset.vocabulary: all`` every id has a code, and ``trained`` marks the rows
    whose user and item both have training ratings; with ``train`` (the default) those
    are exactly the rows with both codes >= 0, and ``trained`` is None.
    """

    user: np.ndarray
    item: np.ndarray
    rating: np.ndarray
    rows: np.ndarray
    true_score: np.ndarray | None = None
    trained: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.rating)

    @property
    def known(self) -> np.ndarray:
        """Rows whose user and item both have training ratings (the model predicts these;
        the rest get the fallback)."""
        known = (self.user >= 0) & (self.item >= 0)
        return known if self.trained is None else known & self.trained


@dataclass(frozen=True)
class RatingTransform:
    """Affine map of ratings used for training: ``t = (r - offset) / scale``."""

    kind: str = "none"
    offset: float = 0.0
    scale: float = 1.0

    def forward(self, r: np.ndarray) -> np.ndarray:
        return ((r - self.offset) / self.scale).astype(np.float32)

    def inverse(self, t: np.ndarray) -> np.ndarray:
        return (t * self.scale + self.offset).astype(np.float32)


@dataclass
class Dataset:
    """Everything downstream needs: encoded parts, vocabularies, statistics, provenance."""

    name: str
    ratings: Ratings
    train: Part
    val: Part
    test: Part
    users: IdEncoder
    items: IdEncoder
    transform: RatingTransform
    fingerprint: dict[str, str]
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def scale(self) -> RatingScale:
        return self.ratings.scale

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def global_mean(self) -> float:
        return float(self.train.rating.mean())

    def user_counts(self) -> np.ndarray:
        """Training ratings per user code."""
        return np.bincount(self.train.user, minlength=self.n_users)

    def item_counts(self) -> np.ndarray:
        """Training ratings per item code."""
        return np.bincount(self.train.item, minlength=self.n_items)


def k_core(frame: pd.DataFrame, min_user: int, min_item: int) -> pd.DataFrame:
    """Drop users and items with too few ratings, repeatedly, until none remain."""
    keep = np.ones(len(frame), bool)
    if min_user or min_item:
        users, n_users = _codes(frame["user"])
        items, n_items = _codes(frame["item"])
        while True:
            user_counts = np.bincount(users[keep], minlength=n_users)
            item_counts = np.bincount(items[keep], minlength=n_items)
            still = keep & (user_counts[users] >= min_user) & (item_counts[items] >= min_item)
            if np.array_equal(still, keep):
                break
            keep = still
    return frame[keep].reset_index(drop=True)


def _codes(column: pd.Series) -> tuple[np.ndarray, int]:
    codes, uniques = pd.factorize(column)
    return codes, len(uniques)


def _merge_info(train: dict[str, Any], test: dict[str, Any]) -> dict[str, Any]:
    info: dict[str, Any] = {"source": f"{train.get('source')} + {test.get('source')}"}
    for key in train.keys() & test.keys() - {"source"}:
        a, b = train[key], test[key]
        both_counts = isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool)
        info[key] = a + b if both_counts else a
    return info


def load_ratings(options: DatasetOptions) -> Ratings:
    """The dataset's ratings; for a predefined split, train then test, marked in ``part``."""
    load = DATASETS.get(options.name, key="dataset.name").fn
    plan = options.split
    if not isinstance(plan, PredefinedSplit):
        return load(options)
    if plan.fold is not None:
        if options.name != "movielens-100k":
            raise ConfigError(
                "official folds exist only for movielens-100k; give train and test files",
                key="dataset.split.fold",
                got=plan.fold,
            )
        from recexp.data.movielens import load_fold

        train, test = load_fold(options, plan.fold)  # type: ignore[arg-type]
    else:
        if not isinstance(options, FileDatasetOptions):
            raise ConfigError(
                "predefined train/test files need a dataset read from files",
                key="dataset.split.strategy",
                got="predefined",
            )
        train = load(options.model_copy(update={"path": plan.train}))
        test = load(options.model_copy(update={"path": plan.test}))
    frame = pd.concat(
        [train.frame.assign(part=np.int8(TRAIN)), test.frame.assign(part=np.int8(TEST))],
        ignore_index=True,
    )
    a, b = train.scale, test.scale
    step = a.step if a.step == b.step else None
    scale = RatingScale(min(a.min, b.min), max(a.max, b.max), step)
    info = {**_merge_info(train.info, test.info), "train_rows": len(train.frame)}
    return Ratings(frame, scale, train.user_features, train.item_features, info)


def _hash(*arrays: np.ndarray) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def fingerprint(frame: pd.DataFrame, index: SplitIndex) -> dict[str, str]:
    """Hashes of the canonical ratings table and of the split, to tell datasets apart."""
    table = pd.util.hash_pandas_object(frame[["user", "item", "rating"]], index=False)
    return {
        "ratings": _hash(table.to_numpy()),
        "split": _hash(index.train, np.array([-1]), index.val, np.array([-1]), index.test),
    }


def _make_transform(kind: str, scale: RatingScale, train: np.ndarray) -> RatingTransform:
    if kind == "minmax":
        return RatingTransform(kind, scale.min, scale.max - scale.min)
    if kind == "standardize":
        return RatingTransform(kind, float(train.mean()), float(train.std()) or 1.0)
    return RatingTransform()


def _check_parts(index: SplitIndex, rows: int, options: DatasetOptions) -> None:
    """A split with no training or no test ratings is a one-line DataError, not a crash later."""
    for name, part in (("training", index.train), ("test", index.test)):
        if not len(part):
            raise DataError(
                f"the {options.split.strategy} split leaves no {name} ratings out of the "
                f"{rows} loaded; use more ratings or change the split",
                key="dataset.split",
            )


def prepare(options: DatasetOptions, seed: int) -> Dataset:
    """Load the dataset ``options`` names and turn it into encoded train / val / test parts."""
    ratings = load_ratings(options)
    loaded = ratings.frame
    frame = k_core(loaded, options.min_user_ratings, options.min_item_ratings)
    ratings.frame = frame
    index = split(ratings, options.split, seed)

    _check_parts(index, len(frame), options)
    train_frame = frame.iloc[index.train]
    every = options.vocabulary == "all"
    users = IdEncoder.fit((frame if every else train_frame)["user"])
    items = IdEncoder.fit((frame if every else train_frame)["item"])
    has_truth = "true_score" in frame.columns
    in_train_user = np.zeros(len(users) if every else 0, bool)
    in_train_item = np.zeros(len(items) if every else 0, bool)
    if every:
        in_train_user[users.transform(train_frame["user"])] = True
        in_train_item[items.transform(train_frame["item"])] = True

    def part(rows: np.ndarray) -> Part:
        sub = frame.iloc[rows]
        truth = sub["true_score"].to_numpy(np.float32) if has_truth else None
        user, item = users.transform(sub["user"]), items.transform(sub["item"])
        trained = in_train_user[user] & in_train_item[item] if every else None
        return Part(user, item, sub["rating"].to_numpy(np.float32), rows, truth, trained)

    train, val, test = part(index.train), part(index.val), part(index.test)
    report = {
        "rows_loaded": len(loaded),
        "rows_after_filters": len(frame),
        "k_core_dropped": {
            "rows": len(loaded) - len(frame),
            "users": loaded["user"].nunique() - frame["user"].nunique(),
            "items": loaded["item"].nunique() - frame["item"].nunique(),
        },
        "split": options.split.strategy,
        **index.info,
        "train": len(train),
        "val": len(val),
        "test": len(test),
        "val_unknown": int((~val.known).sum()),
        "test_unknown": int((~test.known).sum()),
        **ratings.info,
    }
    return Dataset(
        name=options.name,
        ratings=ratings,
        train=train,
        val=val,
        test=test,
        users=users,
        items=items,
        transform=_make_transform(options.transform, ratings.scale, train.rating),
        fingerprint=fingerprint(frame, index),
        report=report,
    )
