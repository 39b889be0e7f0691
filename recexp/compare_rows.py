"""The rows of ``recexp compare``: one per run directory, read through the run's typed
metrics record (JSON only, never TensorFlow)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from recexp.run_metrics import Metrics
from recexp.runs import STATUS, read_run

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


def expand(paths: Iterable[str | Path]) -> list[Path]:
    """Run directories among ``paths``; a folder of runs (e.g. ``runs``) stands for its runs."""
    out: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir() and not (path / STATUS).exists():
            inside = sorted(p for p in path.iterdir() if (p / STATUS).exists())
            if inside:
                out.extend(inside)
                continue
        out.append(path)
    return out


def collect(paths: Iterable[str | Path]) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Rows for readable runs, and ``{path, reason}`` for the rest."""
    rows, problems = [], []
    for path in expand(paths):
        try:
            run = read_run(path)
        except ValueError as e:
            problems.append({"path": str(path), "reason": str(e)})
            continue
        rows.append(_row(run))
    return rows, problems


def _row(run: dict[str, Any]) -> dict[str, Any]:
    m: Metrics = run["metrics"]
    status = run["status"]
    return {
        "run": run["name"],
        "path": run["path"],
        "dataset": m.dataset,
        "model": m.model,
        "embedding": m.embedding,
        "optimizer": m.optimizer,
        "params": m.params,
        "embedding_params": m.embedding_params,
        "embedding_compression": m.embedding_compression,
        "best_epoch": m.best_epoch,
        "val_rmse": m.val.rmse,
        "val_rmse_std": m.val.rmse_std,
        "test_rmse": m.test.rmse,
        "test_mae": m.test.mae,
        "test_rmse_std": m.test.rmse_std,
        "test_mae_std": m.test.mae_std,
        "vs_mean": _relative(m.test.rmse, m.baselines.global_mean_test_rmse),
        "vs_biases": _relative(m.test.rmse, m.baselines.biases_test_rmse),
        "train_seconds": m.train_seconds,
        "ratings_per_second": m.ratings_per_second,
        "status": status.get("status", "?"),
        "error": status.get("error") or status.get("reason"),
        "fingerprint": m.fingerprint,
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


def best_run(rows: list[dict[str, Any]]) -> str | None:
    scored = [r for r in rows if r["status"] == "completed" and r.get("test_rmse") is not None]
    return min(scored, key=lambda r: r["test_rmse"])["run"] if scored else None
