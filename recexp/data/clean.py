"""Reading ratings tables and checking them: bad values, scale, duplicates, dtypes.

Policies (counts of affected rows go into ``Ratings.info``):

- a missing user, item or timestamp, a missing, non-numeric or non-finite (``inf``,
  ``nan``) rating, or a rating outside the scale: ``dataset.invalid_ratings`` ``error``
  (default: one line naming the column, the count and the first bad line) or ``drop``
  (only the bad rows go). Each column is checked on its own: one bad timestamp cell
  makes one bad row;
- no declared scale: the scale is min..max of the finite ratings, and ratings far from
  the bulk of the data (typos such as 50 or -99) get a one-line warning with counts;
- the same (user, item) more than once: ``dataset.duplicates`` ``last`` (default:
  the latest by timestamp, else the last in the file), ``mean`` or ``error``.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import numpy as np
import pandas as pd

from recexp.data.base import FileDatasetOptions, ScaleOptions
from recexp.data.rating_scale import _warn_outliers, far_from_bulk, scale_of
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


def _numeric(column: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(column):
        return column
    return pd.to_numeric(column, errors="coerce")


def _timestamps(column: pd.Series) -> pd.Series:
    """Seconds: numbers as they are, or dates when most cells are dates; bad cells are NaN."""
    if pd.api.types.is_numeric_dtype(column):
        return column
    numbers = pd.to_numeric(column, errors="coerce")
    if 2 * numbers.notna().sum() >= column.notna().sum():
        return numbers  # mostly numbers: a stray word is one bad cell, not a column of dates
    with warnings.catch_warnings():  # pandas' "could not infer format" must not leak
        warnings.simplefilter("ignore")
        dates = pd.to_datetime(column, errors="coerce", utc=True, format="mixed")
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


def _where(frame: pd.DataFrame, position: int, first_line: int | None) -> str:
    """How a message names row ``position``: its file line, else its 1-based data row."""
    row = int(frame.index[position])
    return f"line {row + first_line}" if first_line is not None else f"data row {row + 1}"


def _drop_invalid(
    frame: pd.DataFrame,
    raw: pd.DataFrame,
    scale: RatingScale,
    policy: str,
    label: str,
    first_line: int | None,
) -> dict[str, Any]:
    """Check each column on its own; with ``policy`` error, one line names the first bad cell.

    Invalid: a missing user, item or timestamp, a missing, non-numeric or non-finite
    rating, or a rating outside the scale. ``raw`` holds the cells as read, for the message.
    """
    rating = frame["rating"].to_numpy(np.float64)
    tolerance = 1e-6 * max(1.0, abs(scale.max), abs(scale.min))
    finite = np.isfinite(rating)
    problems: list[tuple[str, str, np.ndarray]] = [
        (c, "a missing or non-numeric value", frame[c].isna().to_numpy())
        for c in ("user", "item", "rating", "timestamp")
        if c in frame.columns
    ]
    problems.insert(3, ("rating", "a non-finite value", ~finite & ~np.isnan(rating)))
    outside = finite & ((rating < scale.min - tolerance) | (rating > scale.max + tolerance))
    problems.insert(4, ("rating", f"a rating outside the scale {scale.min:g}..{scale.max:g}",
                        outside))  # fmt: skip
    invalid = np.zeros(len(frame), bool)
    for _, _, mask in problems:
        invalid |= mask
    invalid &= ~outside  # a row counts once: invalid, else out of scale
    counts = {"invalid_rows": int(invalid.sum()), "out_of_scale_rows": int(outside.sum())}
    by_column = {
        c: int(np.logical_or.reduce([m for col, _, m in problems if col == c]).sum())
        for c in dict.fromkeys(col for col, _, _ in problems)
    }
    counts["invalid_by_column"] = {c: n for c, n in by_column.items() if n}  # type: ignore[assignment]
    bad = invalid | outside
    if bad.any() and policy == "error":
        found = [(int(np.flatnonzero(m)[0]), c, what, m) for c, what, m in problems if m.any()]
        first, column, what, mask = min(found, key=lambda f: f[0])
        n = int(mask.sum())
        others = int(bad.sum()) - n
        rows = f"{n} row{'s' if n > 1 else ''} with {what}"
        also = f" ({others} more invalid rows in all)" if others > 0 else ""
        cell = raw[column].iloc[first] if column in raw.columns else frame[column].iloc[first]
        raise DataError(
            f"column {column!r}: {rows}, the first at {_where(frame, first, first_line)}{also}; "
            "set dataset.invalid_ratings: drop to skip invalid rows",
            file=label,
            got="" if _is_missing(cell) else cell,
        )
    return {**counts, "bad": bad}


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


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
    first_line: int | None = None,
) -> Ratings:
    """Check a raw (user, item, rating[, timestamp]) frame and return clean :class:`Ratings`.

    ``first_line`` is the file line of the frame's row 0 (1 without a header, 2 with one),
    so messages name a file line; None names 1-based data rows instead. Without a
    declared ``scale``, ratings far from the bulk of the data get a one-line warning
    on stderr (and a count in ``info["outlier_ratings"]``).
    """
    absent = [c for c in COLUMNS if c not in frame.columns]
    if absent:
        raise DataError(f"missing column {absent[0]!r}", file=label, got=list(frame.columns))
    if frame.empty:
        raise DataError("no ratings in the file", file=label)
    raw = frame
    frame = frame.assign(rating=_numeric(frame["rating"]))
    if "timestamp" in frame.columns:
        frame = frame.assign(timestamp=_timestamps(frame["timestamp"]))
    rows = len(frame)
    outliers = 0
    if isinstance(scale, RatingScale):
        rating_scale = scale
    else:
        usable = frame["rating"].to_numpy(np.float64)
        usable = usable[np.isfinite(usable)]
        if not usable.size:
            raise DataError("no numeric ratings in the file", file=label)
        if scale is None:
            outliers = _warn_outliers(usable, label)
        rating_scale = scale_of(scale, pd.Series(usable))
    checked = _drop_invalid(frame, raw, rating_scale, options.invalid_ratings, label, first_line)
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
    if outliers:
        counts["outlier_ratings"] = outliers
    info = {"source": label, **counts, **(info or {})}
    return Ratings(frame, rating_scale, user_features, item_features, info)


__all__ = ["COLUMNS", "far_from_bulk", "finish", "read_table", "scale_of"]
