"""``recexp compare``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from recexp.cli.app import app
from recexp.errors import one_line_errors


@app.command()
def compare(
    runs: Annotated[list[Path], typer.Argument(help="Run directories (runs/*) or a runs folder.")],
    format_: Annotated[
        str, typer.Option("--format", "-f", help="table | markdown | csv | json")
    ] = "table",
    sort: Annotated[str, typer.Option("--sort", help="Column key to sort by.")] = "test_rmse",
    stats: Annotated[
        bool,
        typer.Option(
            "--stats",
            help="Pair each run's test errors with a reference run's: RMSE difference and a "
            "bootstrap 95% interval (* = excludes 0).",
        ),
    ] = False,
    reference: Annotated[
        str | None,
        typer.Option("--reference", help="Run name to pair against (default: the best run)."),
    ] = None,
    curves: Annotated[
        bool,
        typer.Option("--curves", help="A column with each run's val RMSE by epoch (sparkline)."),
    ] = False,
    columns: Annotated[
        str | None,
        typer.Option(
            "--columns",
            help="Column keys to show, in order (e.g. run,model,test_rmse,model.dim); "
            "default: the table's columns that fit the terminal (every column in the "
            "markdown, csv and json formats).",
        ),
    ] = None,
    diff: Annotated[
        bool,
        typer.Option(
            "--diff/--no-diff",
            help="Add a column for each resolved spec key whose value differs between the runs.",
        ),
    ] = True,
) -> None:
    """Show runs side by side, best test RMSE first.

    [bold]Examples[/]

      recexp compare runs/*

      recexp compare runs/* --format markdown --sort ratings_per_second

      recexp compare runs/* --stats      # is the best run's lead more than test-set noise?

      recexp compare runs/* --curves     # learning curves at a glance

      recexp compare runs/* --columns run,model,test_rmse,model.dim
    """
    from recexp.compare import show

    with one_line_errors():
        show(runs, format_, sort, stats, reference, curves, columns, diff)
