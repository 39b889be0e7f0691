"""``recexp recommend``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from recexp.cli.app import app, fail
from recexp.errors import ConfigError, one_line_errors

FORMATS = ("table", "csv", "json")


@app.command()
def recommend(
    run: Annotated[Path, typer.Argument(help="A finished run directory.", show_default=False)],
    user: Annotated[str, typer.Option("--user", "-u", help="Raw user id, as in the data.")],
    top: Annotated[int, typer.Option("--top", "-k", help="How many items.")] = 10,
    include_rated: Annotated[
        bool, typer.Option("--include-rated", help="Also rank items the user rated in training.")
    ] = False,
    min_ratings: Annotated[
        int,
        typer.Option("--min-ratings", help="Only items with at least this many training ratings."),
    ] = 0,
    format_: Annotated[
        str, typer.Option("--format", help="table, csv or json.", show_default=True)
    ] = "table",
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="Exit 2 for a user without training ratings (no cold-start list)."
        ),
    ] = False,
) -> None:
    """A trained run's highest predicted ratings for one user, among items not rated yet.

    The run's config.yaml rebuilds the same split and id codes (checked against the run's
    dataset fingerprint). A user without training ratings, or one the data does not know,
    gets the cold-start list (the biases fallback) and one warning line (--strict: exit 2);
    a run that did not complete is served with one warning line saying so.

    [bold]Example[/]

      recexp recommend runs/20261125T153829Z-mf --user 42 --top 5 --min-ratings 20
    """
    if format_ not in FORMATS:
        fail(ConfigError("expected table, csv or json", key="--format", got=format_))
    with one_line_errors(str(run)):
        from recexp.recommend import recommend as top_items
        from recexp.recommend import render

        result = top_items(run, user, top, include_rated, min_ratings, strict)
    for note in result.notes:
        print(f"warning: {note}", file=sys.stderr)
    render(result, format_, include_rated)
