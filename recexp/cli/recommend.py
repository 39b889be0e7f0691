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
    user: Annotated[
        str | None, typer.Option("--user", "-u", help="Raw user id, as in the data.")
    ] = None,
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
    all_users: Annotated[
        bool,
        typer.Option("--all-users", help="Every trained user's list into -o FILE.parquet."),
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="The parquet file for --all-users.")
    ] = None,
) -> None:
    """A trained run's top-N list for one user (or every user), among items not rated yet.

    The run's config.yaml rebuilds the same split and id codes (checked against the run's
    dataset fingerprint). A user without training ratings, or one the data does not know,
    gets the cold-start list (the biases fallback) and one warning line (--strict: exit 2);
    a run that did not complete is served with one warning line saying so.

    [bold]Example[/]

      recexp recommend runs/20261125T153829Z-mf --user 42 --top 5 --min-ratings 20
      recexp recommend runs/20261125T153829Z-mf --all-users -o recs.parquet --top 20
    """
    if format_ not in FORMATS:
        fail(ConfigError("expected table, csv or json", key="--format", got=format_))
    if all_users:
        _all_users(run, output, top, include_rated, min_ratings, user)
        return
    if user is None:
        fail(ConfigError("give --user ID, or --all-users -o FILE.parquet", key="--user"))
    with one_line_errors(str(run)):
        from recexp.recommend import recommend as top_items
        from recexp.recommend import render

        result = top_items(run, user, top, include_rated, min_ratings, strict)
    for note in result.notes:
        print(f"warning: {note}", file=sys.stderr)
    render(result, format_, include_rated)


def _all_users(
    run: Path,
    output: Path | None,
    top: int,
    include_rated: bool,
    min_ratings: int,
    user: str | None,
) -> None:
    if user is not None:
        fail(ConfigError("--all-users lists every user: leave out --user", key="--user", got=user))
    if output is None:
        fail(ConfigError("--all-users writes a parquet file: give -o FILE.parquet", key="-o"))
    with one_line_errors(str(run)):
        from recexp.recommend_all import recommend_all

        result = recommend_all(run, output, top, include_rated, min_ratings)
    for note in result.notes:
        print(f"warning: {note}", file=sys.stderr)
    rate = result.users / max(result.seconds, 1e-9)
    print(
        f"{result.users:,} users, {result.rows:,} rows -> {result.path} "
        f"({result.seconds:.1f} s, {rate:,.0f} users/s)"
    )
