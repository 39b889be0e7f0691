"""``recexp compare``: many run directories side by side, as a table, markdown, CSV or JSON
(reads JSON only, never TensorFlow)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from recexp.compare_columns import cell
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


def render_markdown(rows: list[dict[str, Any]], columns: list[tuple[str, str]] = COLUMNS) -> str:
    lines = [
        "| " + " | ".join(title for _, title in columns) + " |",
        "|" + "|".join("---" for _ in columns) + "|",
    ]
    lines += ["| " + " | ".join(cell(k, r) for k, _ in columns) + " |" for r in rows]
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


def show(
    paths: Iterable[str | Path],
    format_: str = "table",
    sort: str = "test_rmse",
    stats: bool = False,
    reference: str | None = None,
    curves: bool = False,
    columns_text: str | None = None,
    diff: bool = True,
) -> None:
    """``recexp compare``: print the runs in ``format_``; notes and skipped runs on stderr."""
    import sys

    from recexp.compare_spec import add_spec_columns

    check_options(format_, sort)
    rows, problems = collect(paths)
    rows = sort_rows(rows, sort)
    columns = list(COLUMNS)
    if curves:
        from recexp.compare_stats import add_curves, with_curves

        add_curves(rows)
        columns = with_curves(columns)
    if stats:
        columns = _add_stats(rows, reference, columns)
    spec_columns = add_spec_columns(rows) if diff else []
    columns += [(key, title) for key, title, _ in spec_columns]
    if columns_text is not None:
        columns = choose_columns(columns, columns_text)
    extra = {key: priority for key, _, priority in spec_columns}
    text, left_out = render(rows, problems, columns, format_, extra, columns_text is not None)
    print(text, end="")
    if left_out:
        print(
            f"{len(left_out)} more columns do not fit this terminal: "
            f"{', '.join(key for key, _ in left_out)} (--columns KEY,... to choose; "
            "--format markdown, csv or json for all)",
            file=sys.stderr,
        )
    for problem in problems:
        print(f"{problem['path']}: skipped: {problem['reason']}", file=sys.stderr)
    warning = fingerprint_warning(rows)
    if warning:
        print(warning, file=sys.stderr)


def choose_columns(columns: list[tuple[str, str]], text: str) -> list[tuple[str, str]]:
    """``--columns run,model,test_rmse``: those columns, in that order."""
    by_key = dict(columns)
    keys = [k.strip() for k in text.split(",") if k.strip()]
    unknown = next((k for k in keys if k not in by_key), None)
    if unknown is not None or not keys:
        raise ConfigError(
            f"unknown column; expected keys among: {', '.join(by_key)}",
            key="--columns",
            got=unknown if unknown is not None else text,
        )
    return [(k, by_key[k]) for k in keys]


def _add_stats(
    rows: list[dict[str, Any]], reference: str | None, columns: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    import sys

    from recexp.compare_stats import RESAMPLES, paired_ndcg, paired_stats, with_stats

    name = resolve_reference(rows, reference)
    ref = paired_stats(rows, name)
    ranked = [r for r in rows if r.get("test_ndcg_10") is not None]
    ndcg_ref = (
        name or ref or (max(ranked, key=lambda r: r["test_ndcg_10"])["run"] if ranked else None)
    )
    paired_ndcg(rows, ndcg_ref)
    if ref is not None:
        print(
            f"paired against {ref}: d RMSE = run - reference on the test ratings both "
            f"scored; 95% CI from {RESAMPLES} paired bootstrap resamples (* = excludes 0)",
            file=sys.stderr,
        )
    else:
        print("--stats: no RMSE paired: the reference run has no predictions", file=sys.stderr)
    if any(r.get("d_ndcg") is not None for r in rows):
        print(
            f"d NDCG@10 against {ndcg_ref}: per test user (ranking.parquet), bootstrap over users",
            file=sys.stderr,
        )
    for row in rows:
        if row.get("paired_note"):
            print(f"{row['run']}: {row['paired_note']}", file=sys.stderr)
    return with_stats(columns)


def resolve_reference(rows: list[dict[str, Any]], reference: str | None) -> str | None:
    """``--reference``: a run's name, or its name without the timestamp (as the table
    shows it) when only one run has it."""
    from recexp.run_names import without_stamp

    if reference is None:
        return None
    names = [r["run"] for r in rows]
    found = [n for n in names if n == reference] or [
        n for n in names if without_stamp(n) == reference
    ]
    if len(found) != 1:
        problem = "no such run among those given" if not found else "more than one run is called so"
        raise ConfigError(problem, key="--reference", got=reference)
    return found[0]


def render(
    rows: list[dict[str, Any]],
    problems: list[dict[str, str]],
    columns: list[tuple[str, str]],
    format_: str,
    extra: dict[str, int] | None = None,
    chosen: bool = False,
) -> tuple[str, list[tuple[str, str]]]:
    """The rows as text in ``format_``, and the columns a terminal had no room for
    (``table`` only: the other formats hold every column)."""
    if format_ == "json":
        return render_json(rows, problems), []
    if format_ == "csv":
        return render_csv(rows, columns), []
    if format_ == "markdown":
        return render_markdown(rows, columns), []
    from recexp.compare_table import table_text

    return table_text(rows, best_run(rows), columns, extra or {}, chosen)
