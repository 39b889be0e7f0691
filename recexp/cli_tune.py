"""``recexp tune``: the command; ``register(app)`` adds it to the recexp typer app."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from recexp.errors import ConfigError, one_line_errors


def tune(
    spec: Annotated[
        Path | None,
        typer.Argument(help="YAML spec file (not with --resume).", show_default=False),
    ] = None,
    space: Annotated[
        Path | None,
        typer.Option(
            "--space", help="Search space YAML: dotted spec keys -> float/int/categorical."
        ),
    ] = None,
    trials: Annotated[
        int | None,
        typer.Option("--trials", "-n", help="Trials in the study (grid: default all points)."),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", help="Start no trial after this many seconds (resumable)."),
    ] = None,
    sampler: Annotated[str, typer.Option("--sampler", help="tpe, random or grid.")] = "tpe",
    pruner: Annotated[
        str | None,
        typer.Option(
            "--pruner",
            help="median, asha or none, on the per-epoch val RMSE [default: median; asha "
            "with --backend ray].",
            show_default=False,
        ),
    ] = None,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", help="Trials at a time, as processes (local).")
    ] = 1,
    backend: Annotated[str, typer.Option("--backend", help="local or ray.")] = "local",
    address: Annotated[
        str | None,
        typer.Option("--address", help="Ray cluster: auto or HOST:PORT [default: a local Ray]."),
    ] = None,
    trial_resources: Annotated[
        str | None,
        typer.Option(
            "--trial-resources", help="Ray resources per trial, e.g. cpu=2,gpu=1 [default: cpu=1]."
        ),
    ] = None,
    resume: Annotated[
        Path | None,
        typer.Option("--resume", help="Continue this study directory; finished trials are kept."),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            "-s",
            help="Override a spec key: dotted.key=value (YAML-typed).",
            metavar="KEY=VALUE",
        ),
    ] = None,
    runs_dir: Annotated[Path, typer.Option("--runs-dir", help="Where run directories go.")] = Path(
        "runs"
    ),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """Search a spec's hyperparameters with Optuna; select the best trial on validation RMSE.

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
    from recexp.tune.study import resume_tune, run_tune

    label = str(resume if resume is not None else spec) if (resume or spec) else None
    with one_line_errors(label), _exit_on_interrupt():
        if resume is not None:
            given = [
                name
                for name, value in (
                    ("SPEC", spec),
                    ("--space", space),
                    ("--set", set_),
                    ("--pruner", pruner),
                )
                if value
            ]
            if given or sampler != "tpe":
                raise ConfigError(
                    "a resumed study keeps its spec, space, sampler and pruner",
                    key=given[0] if given else "--sampler",
                )
            resume_tune(
                resume,
                trials=trials,
                timeout=timeout,
                jobs=jobs,
                backend=backend,
                address=address,
                trial_resources=trial_resources,
                quiet=quiet,
            )
            return
        if spec is None:
            raise ConfigError("give a spec file, or --resume STUDY", key="SPEC")
        if space is None:
            raise ConfigError("a study needs a search space (--space SPACE.yaml)", key="--space")
        run_tune(
            spec,
            space,
            trials=trials,
            timeout=timeout,
            sampler=sampler,
            pruner=pruner,
            jobs=jobs,
            backend=backend,
            address=address,
            trial_resources=trial_resources,
            overrides=set_,
            runs_root=runs_dir,
            quiet=quiet,
        )


class _exit_on_interrupt:  # noqa: N801 - used as a context manager
    """Ctrl-C: "interrupted", exit 130; the study says so in status.json (resumable)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> Literal[False]:
        if kind is not None and issubclass(kind, KeyboardInterrupt):
            print("interrupted (recexp tune --resume STUDY goes on)", file=sys.stderr)
            raise typer.Exit(130)
        return False


def register(app: typer.Typer) -> None:
    """Add ``recexp tune`` to ``app``."""
    app.command("tune")(tune)
