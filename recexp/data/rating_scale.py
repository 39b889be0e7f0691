"""The rating scale of a ratings table: declared, or taken from the data, with a warning
for ratings far from the bulk of the data (typos that would widen the scale)."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from recexp.data.base import ScaleOptions
from recexp.data.ratings import RatingScale


def scale_of(declared: ScaleOptions | None, ratings: pd.Series) -> RatingScale:
    """The declared scale, else min..max of the (finite) data with step 1, 0.5 or none."""
    if declared is not None:
        return RatingScale(declared.min, declared.max, declared.step)
    values = ratings.to_numpy(np.float64)
    values = values[np.isfinite(values)]
    low, high = float(values.min()), float(values.max())
    step = next((s for s in (1.0, 0.5) if np.allclose(values / s, np.round(values / s))), None)
    return RatingScale(low, high if high > low else low + (step or 1.0), step)


#: An undeclared scale's rating is an outlier when it lies further from the bulk of the
#: data than this many times the bulk's width.
OUTLIER_WIDTHS = 3.0


def far_from_bulk(values: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Ratings far outside the bulk of ``values`` (finite), and the bulk's range.

    The bulk runs from the k-th smallest to the k-th largest value, k = 1% of the
    ratings but at least one, so a lone typo never stretches it. Its width is at least 1
    and half the larger magnitude of its ends, so data of mostly one value flags nothing
    ordinary. Meant for data without a declared scale, where one typo (50, -99) would
    widen the scale. Fewer than 3 ratings have no bulk: nothing is flagged.
    """
    n = len(values)
    if n < 3:
        return np.zeros(n, bool), float(values.min()), float(values.max())
    k = min(max(1, n // 100), (n - 1) // 2)
    low, high = (float(v) for v in np.partition(values, [k, n - 1 - k])[[k, n - 1 - k]])
    width = max(high - low, 0.5 * max(abs(low), abs(high)), 1.0)
    reach = OUTLIER_WIDTHS * width
    return (values < low - reach) | (values > high + reach), low, high


def _warn_outliers(values: np.ndarray, label: str) -> int:
    far, low, high = far_from_bulk(values)
    count = int(far.sum())
    if count:
        above, below = int((far & (values > high)).sum()), int((far & (values < low)).sum())
        print(
            f"warning: {label}: {count} of {len(values)} ratings lie far from the bulk "
            f"{low:g}..{high:g} of the data ({above} above, {below} below) and widen the "
            f"rating scale to {values.min():g}..{values.max():g}; declare "
            "dataset.rating_scale to treat them as out of scale",
            file=sys.stderr,
        )
    return count
