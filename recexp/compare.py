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
    if value is None:
        return "-"
    if key in ("val_rmse", "test_rmse", "test_mae"):
        std = row.get(f"{key}_std")
        return f"{value:.4f}" + (f" ± {std:.4f}" if std is not None else "")
    if key in ("vs_mean", "vs_biases"):
        return f"{value:+.1%}"
    if key == "embedding_compression":
        return f"{value:.2f}x"
    if key in ("params", "embedding_params"):
        return f"{value:,}"
    if key == "ratings_per_second":
        return f"{value:,.0f}"
    if key == "train_seconds":
        return f"{value:.1f}"
    return str(value)


def render_markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| " + " | ".join(title for _, title in COLUMNS) + " |",
        "|" + "|".join("---" for _ in COLUMNS) + "|",
    ]
    lines += ["| " + " | ".join(_cell(k, r) for k, _ in COLUMNS) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def render_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([k for k, _ in COLUMNS])
    writer.writerows([[r.get(k) if r.get(k) is not None else "" for k, _ in COLUMNS] for r in rows])
    return out.getvalue()


def render_json(rows: list[dict[str, Any]], problems: list[dict[str, str]]) -> str:
    return json.dumps({"runs": rows, "unreadable": problems}, indent=2) + "\n"


def render_table(rows: list[dict[str, Any]], best: str | None) -> Any:
    from rich import box
    from rich.table import Table

    table = Table(title="recexp compare", box=box.SIMPLE_HEAD)
    for key, title in COLUMNS:
        numeric = key not in ("run", "dataset", "model", "embedding", "optimizer", "status")
        table.add_column(title, justify="right" if numeric else "left", no_wrap=True)
    for row in rows:
        style = (
            "bold green"
            if row["run"] == best
            else ("red" if row["status"] != "completed" else None)
        )
        table.add_row(*(_cell(k, row) for k, _ in COLUMNS), style=style)
    return table


def best_run(rows: list[dict[str, Any]]) -> str | None:
    scored = [r for r in rows if r["status"] == "completed" and r.get("test_rmse") is not None]
    return min(scored, key=lambda r: r["test_rmse"])["run"] if scored else None
