"""``recexp plot`` and ``recexp report``: pictures and an HTML page of many runs.

matplotlib is imported only when a
command runs, never at ``recexp --help``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from recexp.cli.app import app
from recexp.errors import ConfigError, one_line_errors

RunsArg = Annotated[list[Path], typer.Argument(help="Run directories, e.g. runs/*.")]
KINDS = ("curves", "scatter")
X_KEYS = ("params", "train_seconds")


def _skipped(paths: list[Path]) -> None:
    """Name the paths that are not readable runs on stderr (as compare does)."""
    from recexp.compare import collect

    for problem in collect(paths)[1]:
        print(f"{problem['path']}: skipped: {problem['reason']}", file=sys.stderr)


def _writable(out: Path, suffix: str) -> None:
    if out.suffix.lower() != suffix:
        raise ConfigError(f"the output file must end in {suffix}", key="--output", got=str(out))
    if out.is_dir():
        raise ConfigError("is a directory; expected a file name", key="--output", got=str(out))


@app.command()
def plot(
    runs: RunsArg,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="PNG file to write.", show_default=False)
    ],
    kind: Annotated[
        str, typer.Option("--kind", help="curves: val RMSE by epoch | scatter: test RMSE vs --x")
    ] = "curves",
    x: Annotated[
        str, typer.Option("--x", help="scatter's x axis: params | train_seconds")
    ] = "params",
    y: Annotated[
        str,
        typer.Option("--y", help="scatter's y axis: test_rmse | test_ndcg_10 | test_recall_20"),
    ] = "test_rmse",
) -> None:
    """Many runs on one figure: validation curves, or test RMSE against size or time.

    [bold]Examples[/]

      recexp plot runs/* -o curves.png

      recexp plot runs/* -o pareto.png --kind scatter --x params

      recexp plot runs/* -o topn.png --kind scatter --x train_seconds --y test_ndcg_10
    """
    with one_line_errors():
        if kind not in KINDS:
            raise ConfigError(f"expected one of: {', '.join(KINDS)}", key="--kind", got=kind)
        if x not in X_KEYS:
            raise ConfigError(f"expected one of: {', '.join(X_KEYS)}", key="--x", got=x)
        _writable(output, ".png")
        from recexp import plots

        _skipped(runs)
        notes: list[str] = []
        try:
            if kind == "curves":
                written = plots.plot_curves(runs, output, notes)
            else:
                written = plots.plot_scatter(runs, output, x=x, y=y)
        except OSError as e:
            raise ConfigError(
                f"cannot write: {e.strerror or e}", key="--output", got=str(output)
            ) from None
        finally:
            for note in notes:  # a run without a curve: named, never dropped silently
                print(note, file=sys.stderr)
        print(written)


@app.command()
def report(
    runs: RunsArg,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="HTML file to write.", show_default=False)
    ],
    reference: Annotated[
        str | None,
        typer.Option("--reference", help="Run name to pair against (default: the best run)."),
    ] = None,
    title: Annotated[str, typer.Option("--title", help="The page's title.")] = "recexp report",
) -> None:
    """One self-contained HTML page: compare table with paired statistics, curves,
    each run's pictures and config (no network, no JavaScript; opens from file://).

    [bold]Examples[/]

      recexp report runs/* -o report.html
    """
    with one_line_errors():
        _writable(output, ".html")
        from recexp.report import write_report

        _skipped(runs)
        try:
            written = write_report(runs, output, reference=reference, title=title)
        except OSError as e:
            raise ConfigError(
                f"cannot write: {e.strerror or e}", key="--output", got=str(output)
            ) from None
        print(written)
