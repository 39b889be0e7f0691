"""``recexp compare``: many run directories side by side (reads JSON only, never TensorFlow)."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from recexp.runs import read_run

COLUMNS = [
    ("run", "run"),
    ("dataset", "dataset"),
    ("model", "model"),
    ("embedding", "embedding"),
    ("optimizer", "optimizer"),
    ("params", "params"),
    ("embedding_params", "emb params"),
    ("embedding_compression", "emb x"),
    ("best_epoch", "best epoch"),
    ("val_rmse", "val RMSE"),
    ("test_rmse", "test RMSE"),
    ("test_mae", "test MAE"),
    ("vs_mean", "vs mean"),
    ("vs_biases", "vs biases"),
    ("train_seconds", "train s"),
    ("ratings_per_second", "ratings/s"),
    ("status", "status"),
]
SORT_KEYS = [key for key, _ in COLUMNS]
# --stats: each run's test RMSE against a reference run's, rating by rating
STAT_COLUMNS = [("d_rmse", "d RMSE"), ("d_rmse_ci", "95% CI"), ("paired_n", "paired")]
RESAMPLES = 1000


CURVE_COLUMN = ("curve", "val RMSE by epoch")
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
        path = Path(row["path"]) / "history.csv"
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
    replacement, both runs' errors kept together) and ``paired_n`` in each row.

    The reference is ``reference`` (a run name) or the best completed run. Only runs on
    the same data (dataset fingerprint) with a predictions.parquet are paired; an interval
    that excludes 0 means the difference is larger than the test set's sampling noise.
    Returns the reference run's name, or None when there is nothing to pair.
    """
    import numpy as np
    import pandas as pd

    ref_name = reference or best_run(rows)
    ref = next((r for r in rows if r["run"] == ref_name), None)
    if ref is None:
        return None

    def errors(row: dict[str, Any]) -> pd.DataFrame | None:
        path = Path(row["path"]) / "predictions.parquet"
        if not path.is_file():
            return None
        frame = pd.read_parquet(path, columns=["user", "item", "rating", "prediction"])
        frame["se"] = (frame["rating"].astype("float64") - frame["prediction"]) ** 2
        return frame[["user", "item", "se"]]

    ref_errors = errors(ref)
    if ref_errors is None:
        return None
    rng = np.random.default_rng(seed)
    for row in rows:
        row["d_rmse"] = row["d_rmse_ci"] = row["paired_n"] = None
        if row.get("fingerprint") != ref.get("fingerprint"):
            continue
        row["is_reference"] = row is ref
        run_errors = ref_errors if row is ref else errors(row)
        if run_errors is None:
            continue
        both = ref_errors.merge(run_errors, on=["user", "item"], suffixes=("_ref", "_run"))
        if both.empty:
            continue
        a, b = both["se_run"].to_numpy(), both["se_ref"].to_numpy()
        row["d_rmse"] = float(np.sqrt(a.mean()) - np.sqrt(b.mean()))
        row["paired_n"] = len(both)
        if row is ref:
            continue
        draws = []
        chunk = max(1, 5_000_000 // len(both))  # bounded memory for large test sets
        for start in range(0, resamples, chunk):
            idx = rng.integers(0, len(both), (min(chunk, resamples - start), len(both)))
            draws.append(np.sqrt(a[idx].mean(axis=1)) - np.sqrt(b[idx].mean(axis=1)))
        low, high = np.percentile(np.concatenate(draws), [2.5, 97.5])
        row["d_rmse_ci"] = [float(low), float(high)]
    return str(ref["run"])


def collect(paths: Iterable[str | Path]) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Rows for readable runs, and ``{path, reason}`` for the rest."""
    rows, problems = [], []
    for path in paths:
        try:
            run = read_run(path)
        except ValueError as e:
            problems.append({"path": str(path), "reason": str(e)})
            continue
        rows.append(_row(run))
    return rows, problems


def _get(metrics: dict[str, Any], *keys: str) -> Any:
    node: Any = metrics
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _row(run: dict[str, Any]) -> dict[str, Any]:
    m = run["metrics"]
    return {
        "run": run["name"],
        "path": run["path"],
        "dataset": m.get("dataset"),
        "model": m.get("model"),
        "embedding": m.get("embedding"),
        "optimizer": m.get("optimizer"),
        "params": m.get("params"),
        "embedding_params": m.get("embedding_params"),
        "embedding_compression": m.get("embedding_compression"),
        "best_epoch": m.get("best_epoch"),
        "val_rmse": _get(m, "val", "rmse"),
        "val_rmse_std": _get(m, "val", "rmse_std"),
        "test_rmse": _get(m, "test", "rmse"),
        "test_mae": _get(m, "test", "mae"),
        "test_rmse_std": _get(m, "test", "rmse_std"),
        "test_mae_std": _get(m, "test", "mae_std"),
        "vs_mean": _relative(
            _get(m, "test", "rmse"), _get(m, "baselines", "global_mean_test_rmse")
        ),
        "vs_biases": _relative(_get(m, "test", "rmse"), _get(m, "baselines", "biases_test_rmse")),
        "train_seconds": m.get("train_seconds"),
        "ratings_per_second": m.get("ratings_per_second"),
        "status": run["status"].get("status", "?"),
        "error": run["status"].get("error"),
        "fingerprint": m.get("fingerprint"),
    }


def _relative(value: Any, reference: Any) -> float | None:
    """``value`` relative to ``reference`` (-0.18 = 18% lower), or None if either is missing."""
    if isinstance(value, (int, float)) and isinstance(reference, (int, float)) and reference:
        return value / reference - 1
    return None


def sort_rows(rows: list[dict[str, Any]], key: str = "test_rmse") -> list[dict[str, Any]]:
    """Ascending for errors and seconds, descending for throughput; missing values last."""
    descending = key in ("ratings_per_second",)

    def order(row: dict[str, Any]) -> tuple[int, Any]:
        value = row.get(key)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return (1, 0)
        if isinstance(value, (int, float)):
            return (0, -value if descending else value)
        return (0, str(value))

    return sorted(rows, key=order)


def fingerprint_warning(rows: list[dict[str, Any]]) -> str | None:
    prints = {json.dumps(r["fingerprint"], sort_keys=True) for r in rows if r.get("fingerprint")}
    if len(prints) > 1:
        return (
            f"warning: these runs were not trained and tested on the same data "
            f"({len(prints)} different dataset/split fingerprints); compare with care"
        )
    return None


def _cell(key: str, row: dict[str, Any]) -> str:
    value = row.get(key)
    if key == "d_rmse_ci" and row.get("is_reference"):
        return "reference"
    if value is None:
        return "-"
    if key in ("val_rmse", "test_rmse", "test_mae"):
        std = row.get(f"{key}_std")
        return f"{value:.4f}" + (f" ± {std:.4f}" if std is not None else "")
    if key in ("vs_mean", "vs_biases"):
        return f"{value:+.1%}"
    if key == "d_rmse":
        return f"{value:+.4f}"
    if key == "d_rmse_ci":
        low, high = value
        mark = "" if low <= 0 <= high else " *"
        return f"[{low:+.4f}, {high:+.4f}]{mark}"
    if key == "paired_n":
        return f"{value:,}"
    if key == "embedding_compression":
        return f"{value:.2f}x"
    if key in ("params", "embedding_params"):
        return f"{value:,}"
    if key == "ratings_per_second":
        return f"{value:,.0f}"
    if key == "train_seconds":
        return f"{value:.1f}"
    return str(value)


def render_markdown(rows: list[dict[str, Any]], columns: list[tuple[str, str]] = COLUMNS) -> str:
    lines = [
        "| " + " | ".join(title for _, title in columns) + " |",
        "|" + "|".join("---" for _ in columns) + "|",
    ]
    lines += ["| " + " | ".join(_cell(k, r) for k, _ in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _csv_value(key: str, row: dict[str, Any]) -> Any:
    value = row.get(key)
    if value is None:
        return ""
    return " ".join(str(v) for v in value) if isinstance(value, list) else value


def render_csv(rows: list[dict[str, Any]], columns: list[tuple[str, str]] = COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([k for k, _ in columns])
    writer.writerows([[_csv_value(k, r) for k, _ in columns] for r in rows])
    return out.getvalue()


def render_json(rows: list[dict[str, Any]], problems: list[dict[str, str]]) -> str:
    return json.dumps({"runs": rows, "unreadable": problems}, indent=2) + "\n"


def render_table(
    rows: list[dict[str, Any]], best: str | None, columns: list[tuple[str, str]] = COLUMNS
) -> Any:
    from rich import box
    from rich.table import Table

    table = Table(title="recexp compare", box=box.SIMPLE_HEAD)
    for key, title in columns:
        numeric = key not in (
            "run",
            "dataset",
            "model",
            "embedding",
            "optimizer",
            "status",
            "curve",
        )
        table.add_column(title, justify="right" if numeric else "left", no_wrap=True)
    for row in rows:
        style = (
            "bold green"
            if row["run"] == best
            else ("red" if row["status"] != "completed" else None)
        )
        table.add_row(*(_cell(k, row) for k, _ in columns), style=style)
    return table


def best_run(rows: list[dict[str, Any]]) -> str | None:
    scored = [r for r in rows if r["status"] == "completed" and r.get("test_rmse") is not None]
    return min(scored, key=lambda r: r["test_rmse"])["run"] if scored else None
