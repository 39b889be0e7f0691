"""The ``recexp`` command line: thin commands, each calling one function.

Heavy libraries (TensorFlow, Keras, pandas) are imported inside the commands that
need them, so ``recexp --help``, ``validate``, ``list`` and ``compare`` start fast.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from recexp import __version__
from recexp.data.cli import app as data_app
from recexp.errors import RecexpError, one_line_errors

app = typer.Typer(
    name="recexp",
    help="Experiment runner for neural rating-prediction recommenders (Keras 3 + TensorFlow).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        "-s",
        help="Override a spec key: dotted.key=value (YAML-typed).",
        metavar="KEY=VALUE",
    ),
]
SpecArg = Annotated[Path, typer.Argument(help="YAML spec file.", show_default=False)]


def _fail(error: RecexpError) -> NoReturn:
    """Report ``error`` as one line on stderr and exit with its code."""
    print(error.line(), file=sys.stderr)
    raise typer.Exit(error.exit_code)


def _seed_list(text: str) -> list[int]:
    from recexp.errors import ConfigError

    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(
            "seeds are integers separated by commas", key="--seeds", got=text
        ) from None


@contextmanager
def _exit_on_interrupt() -> Iterator[None]:
    """Ctrl-C (or SIGTERM) ends a training command with "interrupted" and exit code 130;
    the run directories already say so in their status.json."""
    try:
        yield
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        raise typer.Exit(130) from None


def _version(value: bool) -> None:
    if value:
        print(f"recexp {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Experiment runner for neural rating-prediction recommenders."""


@app.command()
def train(
    spec: SpecArg,
    set_: SetOption = None,
    runs_dir: Annotated[Path, typer.Option("--runs-dir", help="Where run directories go.")] = Path(
        "runs"
    ),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    seeds: Annotated[
        str | None,
        typer.Option(
            "--seeds",
            help="Repeat with these seeds (e.g. 42,1,2): one run each under a parent run "
            "with mean ± std.",
            metavar="S1,S2,...",
        ),
    ] = None,
) -> None:
    """Train the model a spec describes and write a new run directory.

    [bold]Examples[/]

      recexp train configs/neumf.yaml

      recexp train configs/mf.yaml --set model.dim=64 --set training.batch_size=1024

      recexp train configs/mf.yaml --seeds 42,1,2,3
    """
    from recexp.config import load_spec

    with one_line_errors(str(spec)), _exit_on_interrupt():
        config = load_spec(spec, set_)
        from recexp.experiment import run_cross_validation, run_experiment

        if seeds is not None:
            from recexp.experiment import run_seeds

            run_seeds(config, _seed_list(seeds), runs_dir, quiet=quiet)
        elif getattr(config.dataset.split, "folds", None):
            run_cross_validation(config, runs_dir, quiet=quiet)
        else:
            run_experiment(config, runs_dir, quiet=quiet)


@app.command()
def sweep(
    spec: SpecArg,
    grid: Annotated[
        list[str],
        typer.Option(
            "--grid",
            "-g",
            help="A key and its values: dotted.key=v1,v2 or dotted.key=[v1, v2]; repeat for "
            "a grid.",
            metavar="KEY=VALUES",
        ),
    ],
    set_: SetOption = None,
    runs_dir: Annotated[Path, typer.Option("--runs-dir", help="Where run directories go.")] = Path(
        "runs"
    ),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """Train every combination of a grid of overrides; select the best on validation RMSE.

    Writes one sweep directory: each trial a run in trials/, sweep.json with every trial's
    overrides and scores, and the selected trial's metrics.json (so compare shows the
    sweep as one row). Every combination is validated before the first one trains.

    [bold]Example[/]

      recexp sweep configs/mf.yaml --grid model.l2=0.03,0.05,0.1 --grid model.dim=[16, 32]
    """
    from recexp.sweep import parse_grid, run_sweep

    with one_line_errors(str(spec)), _exit_on_interrupt():
        run_sweep(spec, parse_grid(grid), set_, runs_dir, quiet=quiet)


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
) -> None:
    """A trained run's highest predicted ratings for one user, among items not rated yet.

    The run's config.yaml rebuilds the same split and id codes (checked against the run's
    dataset fingerprint); a user without training ratings is ranked by the biases fallback.

    [bold]Example[/]

      recexp recommend runs/20261125T153829Z-mf --user 42 --top 5 --min-ratings 20
    """
    from recexp.errors import ConfigError

    if format_ not in ("table", "csv", "json"):
        _fail(ConfigError("expected table, csv or json", key="--format", got=format_))
    with one_line_errors():
        from recexp.recommend import recommend as top_items

        result = top_items(run, user, top, include_rated, min_ratings)
    table = result.table
    if format_ == "csv":
        print(table.to_csv(index=False), end="")
        return
    if format_ == "json":
        print(table.to_json(orient="records", indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    note = (
        f"{result.n_rated} items rated in training"
        + (" (included)" if include_rated else " left out")
        if result.known_user
        else "no training ratings: ranked by the biases fallback (global mean + item bias)"
    )
    out = Table(title=f"user {result.user}: {note}", title_justify="left")
    for column in table.columns:
        numeric = column in ("rank", "predicted", "ratings")
        out.add_column(str(column), justify="right" if numeric else "left")
    for row in table.itertuples(index=False):
        out.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row))
    Console().print(out)


@app.command()
def validate(spec: SpecArg, set_: SetOption = None) -> None:
    """Check a spec and print it resolved, every default filled in.

    [bold]Example[/]

      recexp validate configs/neumf.yaml --set model.mlp_dim=64
    """
    import yaml

    from recexp.config import load_spec

    with one_line_errors():
        config = load_spec(spec, set_)
    print(yaml.safe_dump(config.resolved(), sort_keys=False), end="")


@app.command()
def summary(spec: SpecArg, set_: SetOption = None) -> None:
    """Build the model (no training) and print its Keras summary and parameter counts.

    [bold]Example[/]

      recexp summary configs/neumf.yaml
    """
    from recexp.config import load_spec

    with one_line_errors(str(spec)):
        config = load_spec(spec, set_)
        from recexp.tfinit import import_tensorflow

        import_tensorflow()
        from recexp.data import prepare
        from recexp.experiment import summary_tables
        from recexp.training import build_model

        data = prepare(config.dataset, config.seed)
        text, info = summary_tables(build_model(config, data))
    print(text)
    print(f"vocabulary: {data.n_users:,} users x {data.n_items:,} items")
    print(
        f"parameters: {info['params']:,} (trainable {info['trainable_params']:,}; "
        f"embeddings {info['embedding_params']:,}, {info['embedding_bytes'] / 2**20:.2f} MiB)"
    )
    for table in info["embeddings"]:
        print(
            f"  {table['name']}: {table['strategy']}, vocabulary {table['vocabulary']:,}, "
            f"params {table['parameters']:,}, compression {table['compression'] or 0:.2f}x"
            + _blocks(table)
        )


def _blocks(table: dict[str, object]) -> str:
    """``; blocks 100/843 ids x 32/16 wide in 100/114 rows`` for mixed-dim tables."""
    sizes, dims, rows = (table.get(k) for k in ("block_sizes", "block_dims", "block_rows"))
    if not (isinstance(sizes, list) and isinstance(dims, list) and isinstance(rows, list)):
        return ""
    text = f"; blocks {'/'.join(map(str, sizes))} ids x {'/'.join(map(str, dims))} wide"
    return text + f" in {'/'.join(map(str, rows))} rows"


@app.command("list")
def list_(
    name: Annotated[
        str | None,
        typer.Argument(
            help="A registry (datasets, models, embeddings, optimizers) to list, or an "
            "entry (e.g. mixed_dim) whose spec options to show.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Show the registries, one of them, or one entry's spec options.

    [bold]Examples[/]

      recexp list                 # datasets, model families, embedding strategies, optimizers
      recexp list embeddings      # one registry
      recexp list mixed_dim       # the options of one entry: key, type, default, description
    """
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from recexp.data import DATASETS
    from recexp.embeddings import EMBEDDINGS
    from recexp.errors import ConfigError
    from recexp.models import MODELS
    from recexp.optim import OPTIMIZERS
    from recexp.registry import option_rows

    registries = {
        "datasets": DATASETS,
        "models": MODELS,
        "embeddings": EMBEDDINGS,
        "optimizers": OPTIMIZERS,
    }
    console = Console()
    chosen = list(registries.values())
    if name is not None and name in registries:
        chosen = [registries[name]]
    elif name is not None:
        found = [(r, r.get(name)) for r in registries.values() if name in r]
        if not found:
            everything = [*registries, *(n for r in registries.values() for n in r.names())]
            close = difflib.get_close_matches(name, everything, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            _fail(
                ConfigError(
                    f"no registry or entry called {name!r}{hint}; registries: "
                    + ", ".join(registries),
                    key="list",
                )
            )
        for registry, entry in found:
            table = Table(title=f"{registry.kind} {entry.name}: {entry.help}", title_justify="left")
            for column in ("key", "type", "default", "description"):
                table.add_column(column, style="bold" if column == "key" else None)
            for row in option_rows(entry.options):
                table.add_row(*(Text(cell) for cell in row))
            console.print(table)
        return
    for registry in chosen:
        table = Table(title=registry.plural, title_justify="left")
        table.add_column("name", style="bold")
        table.add_column("description")
        for entry in registry:
            table.add_row(entry.name, entry.help)
        console.print(table)
    if name is None:
        console.print("[dim]recexp list NAME shows the spec options of one entry.[/]")


@app.command()
def compare(
    runs: Annotated[list[Path], typer.Argument(help="Run directories, e.g. runs/*.")],
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
) -> None:
    """Show runs side by side, best test RMSE first.

    [bold]Examples[/]

      recexp compare runs/*

      recexp compare runs/* --format markdown --sort ratings_per_second

      recexp compare runs/* --stats      # is the best run's lead more than test-set noise?

      recexp compare runs/* --curves     # learning curves at a glance
    """
    from recexp import compare as cmp
    from recexp.errors import ConfigError

    if format_ not in ("table", "markdown", "csv", "json"):
        _fail(
            ConfigError(
                "unknown format; expected one of: table, markdown, csv, json",
                key="--format",
                got=format_,
            )
        )
    if sort not in cmp.SORT_KEYS:
        _fail(
            ConfigError(
                f"unknown column; expected one of: {', '.join(cmp.SORT_KEYS)}",
                key="--sort",
                got=sort,
            )
        )
    rows, problems = cmp.collect(runs)
    rows = cmp.sort_rows(rows, sort)
    warning = cmp.fingerprint_warning(rows)
    columns = cmp.COLUMNS
    if curves:
        cmp.add_curves(rows)
        columns = cmp.with_curves(columns)
    if stats:
        if reference is not None and reference not in {r["run"] for r in rows}:
            _fail(ConfigError("no such run among those given", key="--reference", got=reference))
        ref = cmp.paired_stats(rows, reference)
        columns = cmp.with_stats(columns)
        if ref is not None:
            print(
                f"paired against {ref}: d RMSE = run - reference on the test ratings both "
                f"scored; 95% CI from {cmp.RESAMPLES} paired bootstrap resamples "
                "(* = excludes 0)",
                file=sys.stderr,
            )
    if format_ == "json":
        print(cmp.render_json(rows, problems), end="")
    elif format_ == "csv":
        print(cmp.render_csv(rows, columns), end="")
    elif format_ == "markdown":
        print(cmp.render_markdown(rows, columns), end="")
    else:
        from rich.console import Console

        console = Console()
        if not console.is_terminal:
            console = Console(width=320)  # not a terminal: never truncate columns
        console.print(cmp.render_table(rows, cmp.best_run(rows), columns))
    for problem in problems:
        print(f"{problem['path']}: skipped: {problem['reason']}", file=sys.stderr)
    if warning:
        print(warning, file=sys.stderr)


app.add_typer(data_app, name="data", help="Datasets: list, fetch, info, add.")


def main() -> None:
    app()
