"""``recexp compare``: many run directories side by side, as a table, markdown, CSV or JSON
(reads JSON only, never TensorFlow)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from recexp.compare_rows import (
    COLUMNS,
    SORT_KEYS,
    best_run,
    collect,
    fingerprint_warning,
    sort_rows,
)
from recexp.errors import ConfigError

__all__ = [
    "COLUMNS",
    "collect",
    "fingerprint_warning",
    "render_csv",
    "render_markdown",
    "show",
    "sort_rows",
]

FORMATS = ("table", "markdown", "csv", "json")


def check_options(format_: str, sort: str) -> None:
    """One-line errors for an unknown ``--format`` or ``--sort`` key."""
    if format_ not in FORMATS:
        raise ConfigError(
            f"unknown format; expected one of: {', '.join(FORMATS)}", key="--format", got=format_
        )
    if sort not in SORT_KEYS:
        raise ConfigError(
            f"unknown column; expected one of: {', '.join(SORT_KEYS)}", key="--sort", got=sort
        )


def _cell(key: str, row: dict[str, Any]) -> str:
    value = row.get(key)
    if key == "status" and row.get("error") and value != "completed":
        return f"{value}: {str(row['error'])[:60]}"
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


def show(
    paths: Iterable[str | Path],
    format_: str = "table",
    sort: str = "test_rmse",
    stats: bool = False,
    reference: str | None = None,
    curves: bool = False,
) -> None:
    """``recexp compare``: print the runs in ``format_``; notes and skipped runs on stderr."""
    import sys

    check_options(format_, sort)
    rows, problems = collect(paths)
    rows = sort_rows(rows, sort)
    columns = COLUMNS
    if curves:
        from recexp.compare_stats import add_curves, with_curves

        add_curves(rows)
        columns = with_curves(columns)
    if stats:
        columns = _add_stats(rows, reference, columns)
    print(render(rows, problems, columns, format_), end="")
    for problem in problems:
        print(f"{problem['path']}: skipped: {problem['reason']}", file=sys.stderr)
    warning = fingerprint_warning(rows)
    if warning:
        print(warning, file=sys.stderr)


def _add_stats(
    rows: list[dict[str, Any]], reference: str | None, columns: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    import sys

    from recexp.compare_stats import RESAMPLES, paired_stats, with_stats

    if reference is not None and reference not in {r["run"] for r in rows}:
        raise ConfigError("no such run among those given", key="--reference", got=reference)
    ref = paired_stats(rows, reference)
    if ref is not None:
        print(
            f"paired against {ref}: d RMSE = run - reference on the test ratings both "
            f"scored; 95% CI from {RESAMPLES} paired bootstrap resamples (* = excludes 0)",
            file=sys.stderr,
        )
    return with_stats(columns)


def render(
    rows: list[dict[str, Any]],
    problems: list[dict[str, str]],
    columns: list[tuple[str, str]],
    format_: str,
) -> str:
    """The rows as text in ``format_`` (a rich table rendered to text for ``table``)."""
    if format_ == "json":
        return render_json(rows, problems)
    if format_ == "csv":
        return render_csv(rows, columns)
    if format_ == "markdown":
        return render_markdown(rows, columns)
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console = Console(width=320)  # not a terminal: never truncate columns
    with console.capture() as captured:
        console.print(render_table(rows, best_run(rows), columns))
    return captured.get()
