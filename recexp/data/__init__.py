"""Datasets, splits and id encoding.

Names are imported lazily (PEP 562) so ``import recexp.cli.data`` stays cheap; the
dataset registry fills itself with every loader module the first time it is read.
``recexp.data.pipeline`` as an attribute is always the function, never its module.
"""

from __future__ import annotations

import importlib
from typing import Any

_NAMES = {
    "DATASETS": "recexp.data.base",
    "DatasetOptions": "recexp.data.base",
    "FileDatasetOptions": "recexp.data.base",
    "ScaleOptions": "recexp.data.base",
    "SplitOptions": "recexp.data.base",
    "RandomSplit": "recexp.data.base",
    "ByUserSplit": "recexp.data.base",
    "TemporalSplit": "recexp.data.base",
    "PredefinedSplit": "recexp.data.base",
    "LeaveOneOutSplit": "recexp.data.base",
    "Dataset": "recexp.data.pipeline",
    "Part": "recexp.data.pipeline",
    "RatingTransform": "recexp.data.pipeline",
    "load_ratings": "recexp.data.pipeline",
    "prepare": "recexp.data.pipeline",
    "RatingScale": "recexp.data.ratings",
    "Ratings": "recexp.data.ratings",
    "SplitIndex": "recexp.data.splits",
    "fold_splits": "recexp.data.splits",
    "split": "recexp.data.splits",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(f"module 'recexp.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(_NAMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_NAMES])
