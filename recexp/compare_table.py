"""``recexp compare``'s table on a terminal: the columns that fit its width, never a cut
number, runs named without their timestamp where that stays unique. Columns are kept by
priority (:mod:`recexp.compare_columns`: run, test RMSE, model, what ``--stats`` asked
for, val RMSE, the spec keys that differ, ...), a column whose value is the same in every
row last, and shown in the table's order.
"""

from __future__ import annotations

from typing import Any

from recexp.compare_columns import BY_KEY, cell

Columns = list[tuple[str, str]]
WIDE = 320  # off a terminal (a pipe, a file): wide enough for every column


def render_table(rows: list[dict[str, Any]], best: str | None, columns: Columns) -> Any:
    from rich import box
    from rich.table import Table

    table = Table(title="recexp compare", box=box.SIMPLE_HEAD)
    for key, title in columns:
        column = BY_KEY.get(key)
        numeric = column.numeric if column is not None else False
        if key == "run":  # the one column that may fold: a name, never a number
            table.add_column(title, overflow="fold", min_width=12)
        else:
            table.add_column(title, justify="right" if numeric else "left", no_wrap=True)
    names = short_names(rows)
    for row in rows:
        style = (
            "bold green"
            if row["run"] == best
            else ("red" if row["status"] != "completed" else None)
        )
        cells = [names[row["run"]] if k == "run" else cell(k, row) for k, _ in columns]
        table.add_row(*cells, style=style)
    return table


def short_names(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Each run's name without its timestamp, where that is still unique among ``rows``
    (``--reference`` takes either)."""
    from collections import Counter

    from recexp.run_names import without_stamp

    counts = Counter(without_stamp(r["run"]) for r in rows)
    return {
        r["run"]: without_stamp(r["run"]) if counts[without_stamp(r["run"])] == 1 else r["run"]
        for r in rows
    }


def _priority(key: str, rows: list[dict[str, Any]], extra: dict[str, int]) -> int:
    column = BY_KEY.get(key)
    priority = column.priority if column is not None else extra.get(key, 40)
    cells = {cell(key, r) for r in rows}
    constant = len(rows) > 1 and len(cells) == 1
    if column is not None and column.constant_last and constant:
        priority += 100
    if cells <= {"-", "n/a"}:  # no run has a value (e.g. top-N metrics of older runs)
        priority += 200
    return priority


def _width(rows: list[dict[str, Any]], columns: Columns) -> int:
    """The widest line of the table with ``columns``, as rich draws it."""
    from rich.console import Console

    console = Console(width=10_000, force_terminal=False, color_system=None)
    with console.capture() as captured:
        console.print(render_table(rows, None, columns))
    return max((len(line) for line in captured.get().splitlines()), default=0)


def fit(
    rows: list[dict[str, Any]], columns: Columns, width: int, extra: dict[str, int]
) -> tuple[Columns, Columns]:
    """The columns to show within ``width`` characters, and those left out. ``extra``:
    the priorities of columns not in the declarative list (spec keys)."""
    order = sorted(columns, key=lambda c: _priority(c[0], rows, extra))
    kept: list[tuple[str, str]] = []
    for column in order:
        trial = [c for c in columns if c in kept or c == column]
        if not kept or _width(rows, trial) <= width:
            kept.append(column)
    shown = [c for c in columns if c in kept]
    return shown, [c for c in columns if c not in kept]


def table_text(
    rows: list[dict[str, Any]],
    best: str | None,
    columns: Columns,
    extra: dict[str, int],
    chosen: bool,
) -> tuple[str, Columns]:
    """The table as text for this terminal (or :data:`WIDE` off one), and the columns
    left out for want of room (none when the columns were ``chosen`` with --columns)."""
    import os

    from rich.console import Console

    console = Console()
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console = Console(width=WIDE)
    left_out: Columns = []
    if not chosen:
        columns, left_out = fit(rows, columns, console.width, extra)
    with console.capture() as captured:
        console.print(render_table(rows, best, columns))
    return captured.get(), left_out
