"""``recexp data``: list, fetch, inspect and add datasets (the work is in recexp.data.catalog)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from recexp.cli.app import app as main_app
from recexp.errors import one_line_errors

app = typer.Typer(
    help="Datasets: list them, fetch them into the cache, inspect them, add downloaded files.",
    no_args_is_help=True,
)
main_app.add_typer(app, name="data", help="Datasets: list, fetch, info, add.")


@app.command("list")
def list_datasets() -> None:
    """Known datasets, whether their files are in the cache, and how big they are."""
    from rich.console import Console
    from rich.table import Table

    from recexp.data.catalog import cache_rows

    cache, rows = cache_rows()
    table = Table("dataset", "files", "cached", "size", "about", title=f"cache: {cache}")
    for row in rows:
        table.add_row(*row)
    Console().print(table)


@app.command()
def fetch(
    name: Annotated[str, typer.Argument(help="dataset name, e.g. movielens-1m")],
    mirror: Annotated[
        list[str] | None, typer.Option(help="URL tried after upstream; repeatable")
    ] = None,
) -> None:
    """Download a dataset's files into the cache (checksums verified)."""
    from recexp.data.catalog import fetch as fetch_files

    with one_line_errors():
        for path in fetch_files(name, mirror):
            typer.echo(str(path))


@app.command()
def info(
    target: Annotated[str, typer.Argument(help="dataset name, or a spec file (.yaml)")],
    path: Annotated[Path | None, typer.Option(help="file, folder or archive to read")] = None,
) -> None:
    """Statistics of a dataset: size, rating scale and histogram, activity, time range."""
    from rich.console import Console
    from rich.table import Table

    from recexp.data.catalog import describe

    with one_line_errors():
        title, summary = describe(target, path)
    table = Table("statistic", "value", title=title)
    for key, value in summary.items():
        table.add_row(key, f"{value:,}" if isinstance(value, int) else str(value))
    Console().print(table)


@app.command()
def add(
    name: Annotated[str, typer.Argument(help="dataset name, e.g. jester")],
    archive: Annotated[Path, typer.Argument(help="the file you downloaded")],
) -> None:
    """Check a file you downloaded yourself against its checksum and copy it into the cache."""
    from recexp.data.catalog import add_file
    from recexp.data.download import file_digest

    with one_line_errors():
        stored = add_file(name, archive)
    typer.echo(f"added {stored} (sha256 {file_digest(stored, 'sha256')})")
