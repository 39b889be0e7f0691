"""The dataset registry and the options every dataset and split shares.

This module stays light (pydantic only): the registry imports the loader modules the
first time it is read, and loaders import pandas inside their functions, so building
the spec schema does not pay for pandas.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    Discriminator,
    Field,
    NonNegativeInt,
    PositiveInt,
    Tag,
    model_validator,
)

from recexp.registry import Entry, Registry
from recexp.schema import Options

#: Modules whose import registers datasets; read by :class:`DatasetRegistry`.
LOADER_MODULES = (
    "recexp.data.synthetic",
    "recexp.data.movielens",
    "recexp.data.jester",
    "recexp.data.files",
)

Fraction = Annotated[float, Field(ge=0, lt=1)]


class DatasetRegistry(Registry[Callable[..., Any]]):
    """The dataset registry; it imports :data:`LOADER_MODULES` the first time it is read."""

    _filled = False

    def fill(self) -> None:
        if not self._filled:
            self._filled = True
            for module in LOADER_MODULES:
                importlib.import_module(module)

    def get(self, name: str, *, key: str | None = None) -> Entry[Callable[..., Any]]:
        self.fill()
        return super().get(name, key=key)

    def names(self) -> list[str]:
        self.fill()
        return super().names()

    def __contains__(self, name: object) -> bool:
        self.fill()
        return super().__contains__(name)

    def __iter__(self) -> Iterator[Entry[Callable[..., Any]]]:
        self.fill()
        return super().__iter__()

    def __len__(self) -> int:
        self.fill()
        return super().__len__()


#: name -> loader ``fn(options) -> Ratings``; ``options`` is the entry's DatasetOptions subclass.
DATASETS = DatasetRegistry("dataset", plugins="recexp.datasets")


class _Split(Options):
    """What every split strategy shares: a plain validation fraction instead of ``val``.

    Conflicts are judged by value, never by which keys were written, so the resolved
    spec (every default filled in) validates again: ``test_k`` and ``folds`` replace
    ``test``, ``val_k`` replaces ``val``, ``validation_split`` replaces both, and setting
    the replaced key away from its default as well is an error.
    """

    validation_split: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="validation = this random fraction of the training ratings (like Keras' "
        "validation_split, but shuffled with the seed); replaces `val`",
    )

    def _changed(self, key: str) -> bool:
        """Whether ``key`` exists and differs from its default."""
        fields = type(self).model_fields
        return key in fields and getattr(self, key) != fields[key].default

    @model_validator(mode="after")
    def _one_validation(self) -> _Split:
        val_k = getattr(self, "val_k", None)
        if self.validation_split is not None and (self._changed("val") or val_k is not None):
            raise ValueError("set either val or validation_split, not both")
        for a, b in (("test", "test_k"), ("val", "val_k")):
            if getattr(self, b, None) is not None and self._changed(a):
                raise ValueError(f"set either {a} or {b}, not both")
        return self


class _Folds(_Split):
    """K-fold: ``folds: K`` cuts the ratings into K parts and ``fold: i`` makes part i the test.

    The split computes one fold; the runner starts one child run per fold (see
    :func:`recexp.data.splits.fold_splits`).
    """

    folds: int | None = Field(None, ge=2, description="number of folds; test = fold `fold`")
    fold: NonNegativeInt = Field(0, description="which fold is the test set, 0-based")

    @model_validator(mode="after")
    def _fold_in_range(self) -> _Folds:
        if self.folds is None and self.fold:
            raise ValueError("fold needs folds (the number of folds)")
        if self.folds is not None:
            if self.fold >= self.folds:
                raise ValueError(f"fold must be below folds={self.folds} (got {self.fold})")
            if self._changed("test") or getattr(self, "test_k", None) is not None:
                raise ValueError("with folds, the test set is one fold: drop test / test_k")
        return self


class RandomSplit(_Folds):
    """Ratings shuffled with the experiment seed and cut into train / val / test."""

    strategy: Literal["random"] = "random"
    val: Fraction = Field(0.1, description="fraction of all ratings for validation")
    test: float = Field(0.1, gt=0, lt=1, description="fraction of all ratings for test")

    @model_validator(mode="after")
    def _fractions_leave_training_data(self) -> RandomSplit:
        test = 1 / self.folds if self.folds else self.test
        val = 0.0 if self.validation_split is not None else self.val
        if val + test >= 1:
            raise ValueError(
                f"val + test must be below 1, leaving ratings to train on "
                f"(got {val:g} + {test:g} = {val + test:g})"
            )
        return self


class ByUserSplit(_Folds):
    """Per-user holdout: a fraction (``test``) or ``test_k`` of each user's ratings, at random.

    Every user keeps at least one training rating, so every test user is known.
    """

    strategy: Literal["by_user"] = "by_user"
    test: float = Field(0.2, gt=0, lt=1, description="fraction of each user's ratings")
    test_k: PositiveInt | None = Field(None, description="leave-k-out; replaces test")
    val: Fraction = Field(0.0, description="fraction of each user's ratings for validation")
    val_k: NonNegativeInt | None = Field(None, description="k per user for validation")


class TemporalSplit(_Split):
    """By time: a global cut (the latest ``test`` fraction), or each user's last ``test_k``.

    Needs timestamps; ties keep file order. Validation is the slice just before test.
    """

    strategy: Literal["temporal"] = "temporal"
    test: float = Field(0.2, gt=0, lt=1, description="latest fraction of all ratings")
    test_k: PositiveInt | None = Field(None, description="last k ratings of each user instead")
    val: Fraction = Field(0.0, description="fraction of ratings just before the test ones")
    val_k: NonNegativeInt | None = Field(None, description="per user: the k before test")

    @model_validator(mode="after")
    def _one_mode(self) -> TemporalSplit:
        if self.test_k is None and self.val_k is not None:
            raise ValueError("val_k needs test_k (per-user mode); use val for a global cut")
        if self.test_k is None and self.val + self.test >= 1:
            raise ValueError(f"val + test must be below 1 (got {self.val + self.test:g})")
        return self


class LeaveOneOutSplit(_Split):
    """Each user's latest ``test_k`` ratings to test and the ``val_k`` before them to
    validation (the NCF protocol's split, He et al. 2017); ``by: random`` (or data without
    timestamps) picks them at random, seeded. Ties in time are broken at random. A user
    keeps at least one training rating."""

    strategy: Literal["leave_one_out"] = "leave_one_out"
    by: Literal["time", "random"] = Field("time", description="latest by timestamp, or random")
    test_k: PositiveInt = Field(1, description="ratings per user to test")
    val_k: NonNegativeInt = Field(1, description="ratings per user to validation, before test")

    @model_validator(mode="after")
    def _one_validation(self) -> LeaveOneOutSplit:
        if self.validation_split is not None and self.val_k:
            raise ValueError("set either val_k or validation_split (with val_k: 0), not both")
        return self


OfficialFold = Literal["u1", "u2", "u3", "u4", "u5", "ua", "ub"]


class PredefinedSplit(_Split):
    """Train and test given as files (read like the dataset), or an official ML-100K fold."""

    strategy: Literal["predefined"] = "predefined"
    fold: OfficialFold | None = Field(None, description="movielens-100k: u1..u5, ua, ub")
    train: Path | None = None
    test: Path | None = None
    val: Fraction = Field(0.0, description="random fraction of train for validation")

    @model_validator(mode="after")
    def _fold_or_files(self) -> PredefinedSplit:
        files = self.train is not None or self.test is not None
        if self.fold is None and (self.train is None or self.test is None):
            raise ValueError("give fold (u1..u5, ua, ub) or both train and test files")
        if self.fold is not None and files:
            raise ValueError("give fold or train/test files, not both")
        return self


def _strategy(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("strategy", "random"))
    return str(getattr(value, "strategy", "random"))


#: The split strategies, told apart by ``strategy`` (``random`` when left out).
SplitOptions = Annotated[
    Annotated[RandomSplit, Tag("random")]
    | Annotated[ByUserSplit, Tag("by_user")]
    | Annotated[TemporalSplit, Tag("temporal")]
    | Annotated[PredefinedSplit, Tag("predefined")]
    | Annotated[LeaveOneOutSplit, Tag("leave_one_out")],
    Discriminator(_strategy),
]


class DatasetOptions(Options):
    """Options shared by every dataset; each registry entry subclasses this with its own."""

    name: str
    split: SplitOptions = RandomSplit()
    transform: Literal["none", "minmax", "standardize"] = Field(
        "none", description="rating transform for training; metrics stay in rating units"
    )
    min_user_ratings: NonNegativeInt = 0
    min_item_ratings: NonNegativeInt = 0
    vocabulary: Literal["train", "all"] = Field(
        "train",
        description="ids given table rows: train (ids with a training rating) or all (every "
        "id in the data, as seed 002 builds its vocabularies; ids without a training rating "
        "get an untrained row and still the fallback prediction)",
    )


class ScaleOptions(Options):
    """A declared rating scale; ``step`` null means continuous ratings."""

    min: float
    max: float
    step: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> ScaleOptions:
        if self.max <= self.min:
            raise ValueError(f"max must exceed min (got {self.min}..{self.max})")
        return self


class FileDatasetOptions(DatasetOptions):
    """A dataset read from files: where they are, and what to do with bad rows.

    Files are looked for in ``path`` (a file, a folder or an archive), then in the
    cache (``$RECEXP_DATA_DIR``, else ``~/.cache/recexp``), then downloaded from the
    upstream URL and then each of ``mirrors``.
    """

    path: Path | None = Field(None, description="file, folder or archive holding the data")
    mirrors: list[str] = Field(
        default_factory=list,
        description="URLs tried after the upstream one; a URL ending in / gets the file name",
    )
    duplicates: Literal["last", "mean", "error"] = Field(
        "last", description="repeated (user, item): keep the latest, average, or fail"
    )
    invalid_ratings: Literal["error", "drop"] = Field(
        "error", description="missing, non-numeric or out-of-scale ratings: fail or drop"
    )
