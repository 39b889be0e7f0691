"""The columns of ``recexp compare`` (and of the report's table), as one declarative list.

Each :class:`Column` says where its value comes from (``read``: the run's typed
metrics.json record), how a cell is written (``cell``), and its ``priority``: on a
terminal too narrow for every column, compare keeps the lowest priorities first and
shows them in this list's order. A new metric is one entry, e.g. a ranking metric from
metrics.json's ``test.ranking``::

    Column("test_mrr", "test MRR", lambda m: ranking(m.test, "mrr"), fixed(4), priority=24),

Columns without ``read`` are filled by the row builder (run, status, split) or by
``--stats`` / ``--curves``; the spec keys whose values differ between the runs shown get
columns of their own (:func:`recexp.compare_rows.diff_keys`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from recexp.run_metrics import Metrics

Cell = Callable[[Any, dict[str, Any]], str]


def fixed(digits: int) -> Cell:
    return lambda v, _row: f"{v:.{digits}f}"


def score(key: str) -> Cell:
    """A score with its spread over children (folds, seeds): ``0.8900 ± 0.0040``."""

    def cell(value: Any, row: dict[str, Any]) -> str:
        std = row.get(f"{key}_std")
        return f"{value:.4f}" + (f" ± {std:.4f}" if std is not None else "")

    return cell


def count(value: Any, _row: dict[str, Any]) -> str:
    return f"{value:,.0f}"


def percent(value: Any, _row: dict[str, Any]) -> str:
    return f"{value:+.1%}"


def text(value: Any, _row: dict[str, Any]) -> str:
    return str(value)


LEARNING_RATE = re.compile(r"lr=([0-9.]+(?:e[+-]?[0-9]+)?)")


def optimizer(value: Any, _row: dict[str, Any]) -> str:
    """``lazy_adam lr=0.00245216`` (as runs before 3 digits wrote it) -> ``lr=0.00245``."""
    return LEARNING_RATE.sub(lambda m: f"lr={float(m.group(1)):.3g}", str(value))


def best_epoch(value: Any, row: dict[str, Any]) -> str:
    """A parent's best epoch is the mean of its children's: ``12.2 (mean)``."""
    if isinstance(value, float) and not value.is_integer() or row.get("children"):
        return f"{value:.1f} (mean)"
    return f"{int(value)}"


def status(value: Any, row: dict[str, Any]) -> str:
    if row.get("error") and value != "completed":
        return f"{value}: {str(row['error'])[:60]}"
    return str(value)


def interval(value: Any, row: dict[str, Any]) -> str:
    low, high = value
    return f"[{low:+.4f}, {high:+.4f}]" + ("" if low <= 0 <= high else " *")


def part_extra(m: Metrics, part: str, *keys: str) -> Any:
    """A value metrics.json holds beyond the typed fields (``test.ranking.ndcg@10``)."""
    node: Any = getattr(m, part).model_extra or {}
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def ranking(part: Any, name: str) -> float | None:
    """A top-N metric of a part (``ranking(m.test, "ndcg@10")``), or None."""
    return (part.ranking or {}).get(name)


#: higher is better: compare sorts these descending
HIGHER_IS_BETTER = ("ndcg", "recall", "hr_", "mrr", "map_", "precision", "coverage", "per_second")
#: rating metrics, "n/a" (not "-") for a family that predicts no rating (ease, item_knn, ...)
RATING_KEYS = ("val_rmse", "test_rmse", "test_mae", "vs_mean", "vs_biases", "d_rmse", "d_rmse_ci")


def _relative(value: Any, reference: Any) -> float | None:
    """``value`` relative to ``reference`` (-0.18 = 18% lower), or None if either is missing."""
    if isinstance(value, (int, float)) and isinstance(reference, (int, float)) and reference:
        return value / reference - 1
    return None


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    read: Callable[[Metrics], Any] | None = None
    cell: Cell = text
    numeric: bool = True
    priority: int = 50  # lower: kept first on a narrow terminal
    constant_last: bool = False  # the same in every row: shown only when there is room


COLUMN_LIST: list[Column] = [
    Column("run", "run", numeric=False, priority=0),
    Column("dataset", "dataset", lambda m: m.dataset, numeric=False, priority=22,
           constant_last=True),
    Column("split", "split", numeric=False, priority=8, constant_last=True),
    Column("model", "model", lambda m: m.model, numeric=False, priority=2),
    Column("embedding", "embedding", lambda m: m.embedding, numeric=False, priority=15,
           constant_last=True),
    Column("optimizer", "optimizer", lambda m: m.optimizer, optimizer, numeric=False, priority=16,
           constant_last=True),
    Column("params", "params", lambda m: m.params, count, priority=13),
    Column("embedding_params", "emb params", lambda m: m.embedding_params, count, priority=20),
    Column("embedding_compression", "emb x", lambda m: m.embedding_compression,
           lambda v, _r: f"{v:.2f}x", priority=21),
    Column("best_epoch", "best epoch", lambda m: m.best_epoch, best_epoch, priority=11),
    Column("val_rmse", "val RMSE", lambda m: m.val.rmse, score("val_rmse"), priority=5),
    Column("test_rmse", "test RMSE", lambda m: m.test.rmse, score("test_rmse"), priority=1),
    Column("test_mae", "test MAE", lambda m: m.test.mae, score("test_mae"), priority=10),
    Column("vs_mean", "vs mean",
           lambda m: _relative(m.test.rmse, m.baselines.global_mean_test_rmse), percent,
           priority=17),
    Column("vs_biases", "vs biases",
           lambda m: _relative(m.test.rmse, m.baselines.biases_test_rmse), percent, priority=12),
    Column("test_ndcg_10", "test NDCG@10", lambda m: ranking(m.test, "ndcg@10"),
           score("test_ndcg_10"), priority=3),
    Column("test_recall_20", "test Recall@20", lambda m: ranking(m.test, "recall@20"),
           score("test_recall_20"), priority=7),
    Column("vs_popular", "vs popular",
           lambda m: _relative(ranking(m.test, "ndcg@10"),
                               (m.baselines.popularity_test_ranking or {}).get("ndcg@10")),
           percent, priority=19),
    Column("val_ndcg_10", "val NDCG@10", lambda m: ranking(m.val, "ndcg@10"), fixed(4),
           priority=23),
    Column("coverage_10", "coverage@10", lambda m: ranking(m.test, "coverage@10"), fixed(3),
           priority=24),
    Column("train_seconds", "train s", lambda m: m.train_seconds, fixed(1), priority=14),
    Column("ratings_per_second", "ratings/s", lambda m: m.ratings_per_second, count,
           priority=18),
    Column("status", "status", cell=status, numeric=False, priority=9, constant_last=True),
]  # fmt: skip

# --stats and --curves: asked for, so kept before most of the table
STAT_COLUMNS = [
    Column("d_rmse", "d RMSE", cell=lambda v, _r: f"{v:+.4f}", priority=3),
    Column("d_rmse_ci", "95% CI", cell=interval, priority=4),
    Column("paired_n", "paired", cell=count, priority=19),
    Column("d_ndcg", "d NDCG@10", cell=lambda v, _r: f"{v:+.4f}", priority=5),
    Column("d_ndcg_ci", "NDCG 95% CI", cell=interval, priority=6),
]
CURVE_COLUMN = Column("curve", "val RMSE by epoch", numeric=False, priority=7)
DIFF_PRIORITY = 6  # a spec key every run has, with different values: what tells runs apart
DIFF_PARTIAL_PRIORITY = 30  # a spec key only some runs have (another family's options)

BY_KEY = {c.key: c for c in [*COLUMN_LIST, *STAT_COLUMNS, CURVE_COLUMN]}
COLUMNS = [(c.key, c.title) for c in COLUMN_LIST]  # the full table, in order
SORT_KEYS = [key for key, _ in COLUMNS]


def cell(key: str, row: dict[str, Any]) -> str:
    """The text of one cell (``-`` when the run has no value)."""
    value = row.get(key)
    if key in ("d_rmse_ci", "d_ndcg_ci") and row.get("is_reference"):
        return "reference" if row.get(key[:-3]) is not None else "-"
    if value is None:
        return "n/a" if key in RATING_KEYS and row.get("predicts_ratings") is False else "-"
    column = BY_KEY.get(key)
    if column is None:  # a spec key's column
        return value if isinstance(value, str) else _spec_value(value)
    return column.cell(value, row)


def _spec_value(value: Any) -> str:
    import json

    return (
        json.dumps(value, separators=(", ", ": ")) if isinstance(value, list | dict) else str(value)
    )
