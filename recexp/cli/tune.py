"""``recexp tune`` and ``recexp sweep`` (a study with the grid sampler and no pruner)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

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
from recexp.errors import ConfigError, one_line_errors

RESUME_NOTE = "recexp tune --resume STUDY goes on"
SpaceOption = Annotated[
    Path | None,
    typer.Option("--space", help="Search space YAML: dotted spec keys -> float/int/categorical."),
]
TrialsOption = Annotated[
    int | None,
    typer.Option("--trials", "-n", help="Trials in the study (grid: default all points)."),
]
TimeoutOption = Annotated[
    float | None,
    typer.Option("--timeout", help="Start no trial after this many seconds (resumable)."),
]
PrunerOption = Annotated[
    str | None,
    typer.Option(
        "--pruner",
        help="median, asha or none, on the per-epoch val RMSE [default: median; asha with "
        "--backend ray].",
        show_default=False,
    ),
]
JobsOption = Annotated[
    int, typer.Option("--jobs", "-j", help="Trials at a time, as processes (local).")
]
BackendOption = Annotated[str, typer.Option("--backend", help="local or ray.")]
AddressOption = Annotated[
    str | None,
    typer.Option("--address", help="Ray cluster: auto or HOST:PORT [default: a local Ray]."),
]
ResourcesOption = Annotated[
    str | None,
    typer.Option(
        "--trial-resources", help="Ray resources per trial, e.g. cpu=2,gpu=1 [default: cpu=1]."
    ),
]
MetricOption = Annotated[
    str,
    typer.Option(
        "--metric",
        help="What trials are selected (and pruned) on: val_rmse, val_mae, or a top-N metric "
        "such as val_ndcg@10 (maximised; trials then stop early on it too).",
    ),
]
ResumeOption = Annotated[
    Path | None,
    typer.Option("--resume", help="Continue this study directory; finished trials are kept."),
]


@app.command()
def tune(
    spec: Annotated[
        Path | None, typer.Argument(help="YAML spec file (not with --resume).", show_default=False)
    ] = None,
    space: SpaceOption = None,
    trials: TrialsOption = None,
    timeout: TimeoutOption = None,
    sampler: Annotated[str, typer.Option("--sampler", help="tpe, random or grid.")] = "tpe",
    pruner: PrunerOption = None,
    jobs: JobsOption = 1,
    backend: BackendOption = "local",
    address: AddressOption = None,
    trial_resources: ResourcesOption = None,
    resume: ResumeOption = None,
    set_: SetOption = None,
    runs_dir: RunsDirOption = Path("runs"),
    quiet: QuietOption = False,
    mlflow: MlflowOption = None,
    metric: MetricOption = "val_rmse",
) -> None:
    """Search a spec's hyperparameters with Optuna; select the best trial on validation.

    Writes one study directory: each trial a run in trials/, Optuna's storage (study.log),
    study.json with every trial's params, state and value, the selected trial's
    metrics.json (compare shows the study as one row), parameter importances and an
    optimisation-history plot. Every point of the space is validated before the first
    trial runs.

    [bold]Examples[/]

      recexp tune configs/movielens-100k/mf.yaml --space configs/spaces/mf.yaml --trials 40

      recexp tune configs/mf.yaml --space configs/spaces/mf.yaml --trials 20 --jobs 2

      recexp tune configs/mf.yaml --space configs/spaces/mf.yaml --trials 20 --backend ray
      --trial-resources cpu=2

      recexp tune --resume runs/20261125T170513Z-mf-tune
    """
    label = str(resume if resume is not None else spec) if (resume or spec) else None
    session = dict(
        trials=trials,
        timeout=timeout,
        jobs=jobs,
        backend=backend,
        address=address,
        trial_resources=trial_resources,
        quiet=quiet,
    )
    set_ = with_mlflow(set_, mlflow)
    with one_line_errors(label), exit_on_interrupt(RESUME_NOTE):
        quiet_downloads(quiet)
        if resume is not None:
            given = [n for n, v in (("SPEC", spec), ("--space", space), ("--set", set_)) if v]
            _check_resume(given, pruner, sampler, metric)
        _start(spec, space, sampler, pruner, set_, runs_dir, resume, {**session, "metric": metric})


def _check_resume(given: list[str], pruner: str | None, sampler: str, metric: str) -> None:
    """A resumed study keeps what it was started with: any of it given again is one line."""
    given += ["--pruner"] if pruner else []
    given += ["--metric"] if metric != "val_rmse" else []
    if given or sampler != "tpe":
        raise ConfigError(
            "a resumed study keeps its spec, space, sampler, pruner and metric",
            key=given[0] if given else "--sampler",
        )


def _start(
    spec: Path | None,
    space: Path | None,
    sampler: str,
    pruner: str | None,
    overrides: list[str] | None,
    runs_dir: Path,
    resume: Path | None,
    session: dict[str, Any],
) -> None:
    from recexp.tune.study import resume_tune, run_tune

    if resume is not None:
        session.pop("metric")
        resume_tune(resume, **session)
        return
    if spec is None:
        raise ConfigError("give a spec file, or --resume STUDY", key="SPEC")
    if space is None:
        raise ConfigError("a study needs a search space (--space SPACE.yaml)", key="--space")
    run_tune(
        spec, space, sampler=sampler, pruner=pruner, overrides=overrides, runs_root=runs_dir,
        **session,
    )  # fmt: skip


@app.command()
def sweep(
    spec: SpecArg,
    grid: Annotated[
        list[str] | None,
        typer.Option(
            "--grid",
            "-g",
            help="A key and its values: dotted.key=v1,v2 or dotted.key=[v1, v2]; repeat for "
            "a grid.",
            metavar="KEY=VALUES",
        ),
    ] = None,
    set_: SetOption = None,
    runs_dir: RunsDirOption = Path("runs"),
    quiet: QuietOption = False,
    mlflow: MlflowOption = None,
    metric: MetricOption = "val_rmse",
) -> None:
    """Train every combination of a grid of overrides; select the best on validation.

    A study with the grid sampler and no pruner (see recexp tune): each trial a run in
    trials/, study.json with every trial's values and scores, and the selected trial's
    metrics.json (so compare shows the sweep as one row). Every combination is validated
    before the first one trains; recexp tune --resume SWEEP finishes an interrupted one.

    [bold]Example[/]

      recexp sweep configs/mf.yaml --grid model.l2=0.03,0.05,0.1 --grid model.dim=[16, 32]
    """
    from recexp.tune.grid import parse_grid, run_sweep

    with one_line_errors(str(spec)), exit_on_interrupt(RESUME_NOTE):
        quiet_downloads(quiet)
        run_sweep(spec, parse_grid(grid or []), with_mlflow(set_, mlflow), runs_dir, quiet, metric)
