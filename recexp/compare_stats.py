"""``recexp compare --stats`` and ``--curves``: paired statistics between runs from their
predictions.parquet, and learning curves as sparklines from their history.csv."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from recexp import compare_columns
from recexp.compare_rows import COLUMNS, best_run
from recexp.runs import HISTORY, PREDICTIONS, RANKING_USERS

# --stats: each run's test RMSE against a reference run's, rating by rating
STAT_COLUMNS = [(c.key, c.title) for c in compare_columns.STAT_COLUMNS]
RESAMPLES = 1000

CURVE_COLUMN = (compare_columns.CURVE_COLUMN.key, compare_columns.CURVE_COLUMN.title)
SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], width: int = 24) -> str:
    """``values`` as one row of block characters, low to high (downsampled to ``width``)."""
    values = [v for v in values if math.isfinite(v)]
    if not values:
        return ""
    if len(values) > width:
        values = [values[round(i * (len(values) - 1) / (width - 1))] for i in range(width)]
    low, high = min(values), max(values)
    if high == low:
        return SPARKS[0] * len(values)
    return "".join(SPARKS[round((v - low) / (high - low) * (len(SPARKS) - 1))] for v in values)


def add_curves(rows: list[dict[str, Any]]) -> None:
    """Fill ``curve``: each run's validation RMSE per epoch from history.csv (train RMSE
    when the run had no validation part), as a sparkline, and ``curve_values``."""
    for row in rows:
        path = Path(row.get("source") or row["path"]) / HISTORY
        values: list[float] = []
        if path.is_file():
            with path.open(newline="") as f:
                for record in csv.DictReader(f):
                    text = record.get("val_rmse") or record.get("rmse") or ""
                    try:
                        values.append(float(text))
                    except ValueError:
                        continue
        row["curve_values"] = values
        row["curve"] = sparkline(values) or None


def with_curves(columns: list[tuple[str, str]] = COLUMNS) -> list[tuple[str, str]]:
    """``columns`` with the learning-curve column after best epoch."""
    at = [k for k, _ in columns].index("best_epoch") + 1
    return [*columns[:at], CURVE_COLUMN, *columns[at:]]


def with_stats(columns: list[tuple[str, str]] = COLUMNS) -> list[tuple[str, str]]:
    """``columns`` with the paired-statistics columns after test MAE."""
    at = [k for k, _ in columns].index("test_mae") + 1
    return [*columns[:at], *STAT_COLUMNS, *columns[at:]]


def paired_stats(
    rows: list[dict[str, Any]],
    reference: str | None = None,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> str | None:
    """Fill ``d_rmse`` (test RMSE minus the reference run's, on the ratings both scored),
    ``d_rmse_ci`` (a paired bootstrap 95% interval: the test ratings resampled with
    replacement, both runs' errors kept together) and ``paired_n`` in each row, and
    ``paired_note`` where a row is paired through a child or not paired (the reason).

    The reference is ``reference`` (a run name) or the best completed run. Only runs on
    the same data (dataset fingerprint) with a predictions.parquet are paired; a parent
    run is paired through its selected (sweep, study) or first (folds, seeds) child
    (:mod:`recexp.run_source`). An interval that excludes 0 means the difference is
    larger than the test set's sampling noise. Returns the reference run's name, or None
    when there is nothing to pair.
    """
    import numpy as np

    ref_name = reference or best_run(rows)
    ref = next((r for r in rows if r["run"] == ref_name), None)
    for row in rows:
        row["d_rmse"] = row["d_rmse_ci"] = row["paired_n"] = None
        row["paired_note"] = _unpaired_reason(row)
    if ref is None:
        return None
    ref_errors = _errors(ref)
    if ref_errors is None:
        return None
    rng = np.random.default_rng(seed)
    for row in rows:
        row["is_reference"] = row is ref
        if row is not ref and _pair_key(row) != _pair_key(ref):
            row["paired_note"] = "not paired: not on the reference's data (fingerprint)"
            continue
        run_errors = ref_errors if row is ref else _errors(row)
        if run_errors is None:
            continue
        both = ref_errors.merge(run_errors, on=["user", "item"], suffixes=("_ref", "_run"))
        if both.empty:
            row["paired_note"] = "not paired: no test rating in common with the reference"
            continue
        a, b = both["se_run"].to_numpy(), both["se_ref"].to_numpy()
        row["d_rmse"] = float(np.sqrt(a.mean()) - np.sqrt(b.mean()))
        row["paired_n"] = len(both)
        if row is not ref:
            row["d_rmse_ci"] = _bootstrap(a, b, resamples, rng)
    return str(ref["run"])


def paired_ndcg(rows: list[dict[str, Any]], ref_name: str | None, resamples: int = RESAMPLES,
                seed: int = 0) -> None:  # fmt: skip
    """Fill ``d_ndcg`` (test NDCG@10 minus the reference run's, over the users both
    ranked: ranking.parquet) and ``d_ndcg_ci`` (a paired bootstrap 95% interval over
    users) for the runs on the reference's data."""
    import numpy as np

    for row in rows:
        row["d_ndcg"] = row["d_ndcg_ci"] = None
    ref = next((r for r in rows if r["run"] == ref_name), None)
    ref_users = _per_user(ref) if ref is not None else None
    if ref is None or ref_users is None:
        return
    rng = np.random.default_rng(seed)
    for row in rows:
        users = ref_users if row is ref else _per_user(row)
        if users is None or _pair_key(row) != _pair_key(ref):
            continue
        both = ref_users.merge(users, on="user", suffixes=("_ref", "_run"))
        if both.empty:
            continue
        a, b = both["ndcg@10_run"].to_numpy(), both["ndcg@10_ref"].to_numpy()
        row["d_ndcg"] = float(a.mean() - b.mean())
        if row is not ref:
            idx = rng.integers(0, len(a), (resamples, len(a)))
            low, high = np.percentile(a[idx].mean(axis=1) - b[idx].mean(axis=1), [2.5, 97.5])
            row["d_ndcg_ci"] = [float(low), float(high)]


def _per_user(row: dict[str, Any]) -> Any:
    """Each test user's NDCG@10 from the run's ranking.parquet, or None."""
    import pandas as pd

    path = Path(row.get("source") or row["path"]) / RANKING_USERS
    if not path.is_file():
        return None
    try:
        return pd.read_parquet(path, columns=["user", "ndcg@10"])
    except (OSError, ValueError, KeyError):
        return None


def _pair_key(row: dict[str, Any]) -> Any:
    return row.get("pair_fingerprint", row.get("fingerprint"))


def _unpaired_reason(row: dict[str, Any]) -> str | None:
    """Why ``row`` cannot be paired (None: it can), or how it is: through a child."""
    if row.get("source") is None:
        return f"not paired: {row.get('source_missing') or 'no run to read'}"
    if not (Path(row["source"]) / PREDICTIONS).is_file():
        where = f" in {row['source_via']}" if row.get("source_via") else ""
        return f"not paired: no {PREDICTIONS}{where}"
    return f"paired through {row['source_via']}" if row.get("source_via") else None


def _errors(row: dict[str, Any]) -> Any:
    """The squared error of each (user, item) the run scored, or None."""
    import pandas as pd

    if row.get("source") is None:
        return None
    path = Path(row["source"]) / PREDICTIONS
    if not path.is_file():
        return None
    frame = pd.read_parquet(path, columns=["user", "item", "rating", "prediction"])
    frame["se"] = (frame["rating"].astype("float64") - frame["prediction"]) ** 2
    return frame[["user", "item", "se"]]


def _bootstrap(a: Any, b: Any, resamples: int, rng: Any) -> list[float]:
    """The 95% interval of RMSE(a) - RMSE(b) over paired resamples of the ratings."""
    import numpy as np

    draws = []
    chunk = max(1, 5_000_000 // len(a))  # bounded memory for large test sets
    for start in range(0, resamples, chunk):
        idx = rng.integers(0, len(a), (min(chunk, resamples - start), len(a)))
        draws.append(np.sqrt(a[idx].mean(axis=1)) - np.sqrt(b[idx].mean(axis=1)))
    low, high = np.percentile(np.concatenate(draws), [2.5, 97.5])
    return [float(low), float(high)]
