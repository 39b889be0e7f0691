"""The rows of ``recexp compare``: one per run directory, read through the run's typed
metrics record (JSON only, never TensorFlow)."""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from recexp.compare_columns import COLUMN_LIST, COLUMNS, HIGHER_IS_BETTER, SORT_KEYS
from recexp.compare_spec import spec_fields
from recexp.run_metrics import Metrics
from recexp.run_source import source
from recexp.runs import METRICS, STATUS, read_run

__all__ = ["COLUMNS", "SORT_KEYS", "best_run", "collect", "fingerprint_warning", "sort_rows"]


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
    extra = m.model_extra or {}
    row: dict[str, Any] = {c.key: c.read(m) for c in COLUMN_LIST if c.read is not None}
    row |= {
        "run": run["name"],
        "path": run["path"],
        "val_rmse_std": m.val.rmse_std,
        "test_rmse_std": m.test.rmse_std,
        "test_mae_std": m.test.mae_std,
        "test_ndcg_10_std": (m.test.ranking_std or {}).get("ndcg@10"),
        "test_recall_20_std": (m.test.ranking_std or {}).get("recall@20"),
        "predicts_ratings": m.predicts_ratings,
        "children": next((k for k in ("folds", "seeds") if extra.get(k)), None),
        "status": status.get("status", "?"),
        "error": status.get("error") or status.get("reason"),
        "fingerprint": m.fingerprint,
    }
    row |= _source_fields(run["path"], m)
    row |= spec_fields(Path(run["path"]), row["source"] if row["source_via"] else None)
    return row


def _source_fields(path: str, m: Metrics) -> dict[str, Any]:
    """Where the run's predictions and history are (a parent: its selected or first
    child, see :mod:`recexp.run_source`), and the fingerprint to pair it by."""
    found = source(path)
    fingerprint = m.fingerprint
    if found.via and found.path is not None and (found.path / METRICS).is_file():
        with contextlib.suppress(OSError, ValueError):  # unreadable: the parent's own
            fingerprint = Metrics.parse(json.loads((found.path / METRICS).read_text())).fingerprint
    return {
        "source": str(found.path) if found.path is not None else None,
        "source_via": found.via,
        "source_missing": found.missing,
        "pair_fingerprint": fingerprint,
    }


def sort_rows(rows: list[dict[str, Any]], key: str = "test_rmse") -> list[dict[str, Any]]:
    """Ascending for errors and seconds, descending for throughput and top-N metrics;
    missing values last."""
    descending = any(word in key for word in HIGHER_IS_BETTER)

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
