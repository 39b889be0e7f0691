"""``recexp train``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from recexp.cli.app import (
    MlflowOption,
    QuietOption,
    RunsDirOption,
    SetOption,
    SpecArg,
    app,
    exit_on_interrupt,
    quiet_downloads,
    with_mlflow,
)
from recexp.errors import one_line_errors


@app.command()
def train(
    spec: SpecArg,
    set_: SetOption = None,
    runs_dir: RunsDirOption = Path("runs"),
    quiet: QuietOption = False,
    mlflow: MlflowOption = None,
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

      recexp train configs/mf.yaml --mlflow ./mlruns   # also log the run to MLflow
    """
    from recexp.config import load_spec
    from recexp.parents import parse_seeds

    with one_line_errors(str(spec)), exit_on_interrupt():
        quiet_downloads(quiet)
        config = load_spec(spec, with_mlflow(set_, mlflow))
        seed_list = None if seeds is None else parse_seeds(seeds)
        from recexp.parents import train as run

        run(config, runs_dir, quiet=quiet, seeds=seed_list)
