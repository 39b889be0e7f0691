"""``split: {strategy: leave_one_out}``: each user's latest rating to test, the one before
to validation (the NCF protocol), checked on a hand-made table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import TypeAdapter, ValidationError

from recexp.data.base import LeaveOneOutSplit, SplitOptions
from recexp.data.ratings import Ratings, RatingScale
from recexp.data.splits import split

SPLIT = TypeAdapter(SplitOptions)


def table(timestamps: bool = True) -> Ratings:
    """User 0: 4 ratings, user 1: 2, user 2: 1; time runs against row order for user 0."""
    frame = pd.DataFrame(
        {
            "user": np.array([0, 0, 0, 0, 1, 1, 2], np.int32),
            "item": np.array([0, 1, 2, 3, 0, 4, 1], np.int32),
            "rating": np.array([5, 4, 3, 2, 1, 5, 3], np.float32),
            "timestamp": np.array([40, 30, 20, 10, 5, 6, 1], np.int64),
        }
    )
    if not timestamps:
        frame = frame.drop(columns="timestamp")
    return Ratings(frame, RatingScale(1, 5, 1))


def test_latest_to_test_the_one_before_to_validation():
    index = split(table(), SPLIT.validate_python({"strategy": "leave_one_out"}), seed=0)
    # user 0: latest row 0 -> test, row 1 -> val; user 1 (2 ratings): row 5 -> test, no val
    # (one rating stays in train); user 2 (1 rating): train only
    assert index.test.tolist() == [0, 5]
    assert index.val.tolist() == [1]
    assert index.train.tolist() == [2, 3, 4, 6]


def test_without_timestamps_one_per_user_at_random_and_seeded():
    options = LeaveOneOutSplit()
    first = split(table(timestamps=False), options, seed=3)
    again = split(table(timestamps=False), options, seed=3)
    assert first.test.tolist() == again.test.tolist()
    assert first.info["by"] == "random"
    assert len(first.test) == 2 and len(first.val) == 1  # users 0 and 1; val from user 0


def test_val_k_zero_and_validation_split_conflict():
    index = split(table(), LeaveOneOutSplit(val_k=0), seed=0)
    assert len(index.val) == 0 and index.test.tolist() == [0, 5]
    with pytest.raises(ValidationError, match="either val_k or validation_split"):
        LeaveOneOutSplit(validation_split=0.1)
