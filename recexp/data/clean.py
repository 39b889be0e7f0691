"""Reading ratings tables and checking them: bad values, scale, duplicates, dtypes.

Policies (counts of affected rows go into ``Ratings.info``):

- a missing or non-numeric rating, user, item or timestamp, or a rating outside the
  scale: ``dataset.invalid_ratings`` ``error`` (default: one line naming the count
  and the first bad row) or ``drop``;
- the same (user, item) more than once: ``dataset.duplicates`` ``last`` (default:
  the latest by timestamp, else the last in the file), ``mean`` or ``error``.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd

from recexp.data.base import FileDatasetOptions, ScaleOptions
from recexp.data.ratings import Ratings, RatingScale
from recexp.data.source import Source
from recexp.errors import DataError

COLUMNS = ("user", "item", "rating")


def _read_csv(source: Source, name: str, kwargs: dict[str, Any]) -> pd.DataFrame:
    sep = kwargs.get("sep", ",")
    with source.open(name) as f:
        if len(sep) == 1 or sep == r"\s+":
            return pd.read_csv(f, engine="c", **kwargs)
        data = f.read().replace(sep.encode(), b"\x1f")  # C parser: one-character separators
    return pd.read_csv(io.BytesIO(data), engine="c", **{**kwargs, "sep": "\x1f"})


def read_table(source: Source, name: str, **kwargs: Any) -> pd.DataFrame:
    """``pandas.read_csv`` (C parser) on one file of ``source``; failures name the file.

    A multi-character ``sep`` is rewritten to one character first. When typed parsing
    fails on a bad value, the file is read again as text so the checks below can count
    and report the bad rows.
    """
    label = source.label(name)
    try:
        try:
            return _read_csv(source, name, kwargs)
        except (ValueError, OverflowError) as error:
            if "dtype" not in kwargs or isinstance(error, pd.errors.ParserError):
                raise
            text = {column: "str" for column in kwargs["dtype"]}
            return _read_csv(source, name, {**kwargs, "dtype": text})
    except pd.errors.EmptyDataError:
        raise DataError("the file is empty", file=label) from None
    except (ValueError, UnicodeDecodeError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DataError(f"cannot parse the file: {first}", file=label) from None


def scale_of(declared: ScaleOptions | None, ratings: pd.Series) -> RatingScale:
    """The declared scale, else min..max of the data with step 1, 0.5 or none."""
    if declared is not None:
        return RatingScale(declared.min, declared.max, declared.step)
    values = ratings.to_numpy(np.float64)
    low, high = float(values.min()), float(values.max())
    step = next((s for s in (1.0, 0.5) if np.allclose(values / s, np.round(values / s))), None)
    return RatingScale(low, high if high > low else low + (step or 1.0), step)


def _numeric(column: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(column):
        return column
    return pd.to_numeric(column, errors="coerce")


def _timestamps(column: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(column):
        return column
    numbers = pd.to_numeric(column, errors="coerce")
    if numbers.notna().sum() >= column.notna().sum():
        return numbers
    dates = pd.to_datetime(column, errors="coerce", utc=True)
    seconds = (dates - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
    return seconds.where(dates.notna())


def _ids(column: pd.Series) -> pd.Series:
    """int32 when the ids are whole numbers that fit, else strings."""
    if not pd.api.types.is_numeric_dtype(column):
        numbers = pd.to_numeric(column, errors="coerce")
        column = numbers if numbers.notna().all() else column
    if pd.api.types.is_numeric_dtype(column):
        values = column.to_numpy()
        whole = np.array_equal(values, np.round(values))
        if whole and len(values) and abs(values).max() < 2**31:
            return column.astype(np.int32)
    return column.astype(str)


def _drop_invalid(frame: pd.DataFrame, scale: RatingScale, policy: str, label: str) -> dict:
    present = [c for c in ("user", "item", "rating", "timestamp") if c in frame.columns]
    missing = frame[present].isna().any(axis=1).to_numpy()
    rating = frame["rating"].to_numpy()
    tolerance = 1e-6 * max(1.0, abs(scale.max), abs(scale.min))
    outside = ~missing & ((rating < scale.min - tolerance) | (rating > scale.max + tolerance))
    counts = {"invalid_rows": int(missing.sum()), "out_of_scale_rows": int(outside.sum())}
    bad = missing | outside
    if bad.any() and policy == "error":
        first = int(np.flatnonzero(bad)[0])
        what = "a missing or non-numeric value" if missing[first] else "a rating outside the scale"
        raise DataError(
            f"{counts['invalid_rows']} rows with missing or non-numeric values and "
            f"{counts['out_of_scale_rows']} outside the scale {scale.min:g}..{scale.max:g}; "
            f"data row {first + 1} has {what}; set dataset.invalid_ratings: drop to skip them",
            file=label,
            got=frame.iloc[first][present].tolist(),
        )
    return {**counts, "bad": bad}


def _repeated(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose (user, item) comes again later; int ids are packed into one dense key."""
    user, item = frame["user"], frame["item"]
    if len(frame) and all(pd.api.types.is_integer_dtype(c) for c in (user, item)):
        u, i = user.to_numpy(np.int64), item.to_numpy(np.int64)
        u, i, width = u - u.min(), i - i.min(), int(i.max() - i.min()) + 1
        if int(u.max()) < 2**62 // width:  # dense keys also hash well, unlike u << 32 | i
            key = u * width + i
            span = (int(u.max()) + 1) * width
            if bool(np.all(key[1:] > key[:-1])) or (
                span <= max(4 * len(key), 2**24) and np.bincount(key, minlength=span).max() <= 1
            ):
                return np.zeros(len(key), bool)  # sorted or sparse: no duplicates, no hash table
            return pd.Series(key).duplicated(keep="last").to_numpy()
    return frame.duplicated(["user", "item"], keep="last").to_numpy()


def _resolve_duplicates(frame: pd.DataFrame, policy: str, label: str) -> tuple[pd.DataFrame, int]:
    repeated = _repeated(frame)
    count = int(repeated.sum())
    if not count:
        return frame, 0
    if policy == "error":
        user, item = frame.loc[repeated, ["user", "item"]].iloc[0].tolist()
        raise DataError(
            f"{count} duplicate (user, item) rows, e.g. user {user!r} item {item!r}; "
            "set dataset.duplicates: last or mean",
            file=label,
        )
    if policy == "mean":
        keys = ("user", "item", "rating")
        how = {c: "max" if c == "timestamp" else "first" for c in frame if c not in keys}
        how["rating"] = "mean"
        merged = frame.groupby(["user", "item"], sort=False, as_index=False).agg(how)
        return merged[frame.columns], count
    if "timestamp" in frame.columns:
        latest = frame.sort_values("timestamp", kind="stable")
        latest = latest[~_repeated(latest)]
        return latest.sort_index(), count
    return frame[~repeated], count


def finish(
    frame: pd.DataFrame,
    options: FileDatasetOptions,
    label: str,
    *,
    scale: ScaleOptions | RatingScale | None = None,
    info: dict[str, Any] | None = None,
    user_features: pd.DataFrame | None = None,
    item_features: pd.DataFrame | None = None,
) -> Ratings:
    """Check a raw (user, item, rating[, timestamp]) frame and return clean :class:`Ratings`."""
    absent = [c for c in COLUMNS if c not in frame.columns]
    if absent:
        raise DataError(f"missing column {absent[0]!r}", file=label, got=list(frame.columns))
    if frame.empty:
        raise DataError("no ratings in the file", file=label)
    frame = frame.assign(rating=_numeric(frame["rating"]))
    if "timestamp" in frame.columns:
        frame = frame.assign(timestamp=_timestamps(frame["timestamp"]))
    rows = len(frame)
    if isinstance(scale, RatingScale):
        rating_scale = scale
    else:
        usable = frame["rating"].dropna()
        if usable.empty:
            raise DataError("no numeric ratings in the file", file=label)
        rating_scale = scale_of(scale, usable)
    checked = _drop_invalid(frame, rating_scale, options.invalid_ratings, label)
    if checked["bad"].any():
        frame = frame[~checked.pop("bad")]
    else:
        checked.pop("bad")
    frame = frame.assign(user=_ids(frame["user"]), item=_ids(frame["item"]))
    frame, duplicates = _resolve_duplicates(frame, options.duplicates, label)
    dtypes: dict[str, Any] = {"rating": np.float32}
    if "timestamp" in frame.columns:
        dtypes["timestamp"] = np.int64
    frame = frame.astype(dtypes).reset_index(drop=True)
    if frame.empty:
        raise DataError("no valid ratings left in the file", file=label)
    counts = {"rows_read": rows, **checked, "duplicate_rows": duplicates}
    info = {"source": label, **counts, **(info or {})}
    return Ratings(frame, rating_scale, user_features, item_features, info)
