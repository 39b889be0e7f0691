"""``recexp tune`` and ``recexp tune --resume``: a study over a spec, each trial an
ordinary run directory. Everything is validated before anything is written.

A study directory (a parent run of kind ``trials``: ``recexp compare`` shows it as one
row, ``recexp compare STUDY/trials/*`` its trials) holds:

- ``config.yaml``: the base spec, resolved; ``status.json``: running, completed, stopped
  (the timeout came first; ``--resume`` goes on), interrupted or failed;
- ``spec.yaml``, ``space.yaml``: the spec as written (``--set`` applied) and the search
  space, what every trial's config is built from (on any machine, and on ``--resume``);
- ``tune.json``: the study's settings (sampler, pruner, trials) and its sessions;
- ``study.log``: Optuna's journal storage, the study itself, safe to share between
  processes (see :mod:`recexp.tune` for opening it in Optuna's tools);
- ``trials/``: one run directory per trial (completed, pruned, failed or interrupted);
- ``study.json``: every trial's params, state, value (val RMSE), epochs and run
  directory; the selected trial, best params, parameter importances;
- ``metrics.json``: the selected trial's metrics (chosen on validation RMSE, never test);
- ``history.png``: Optuna's optimisation-history plot.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from recexp.config import ExperimentConfig
from recexp.errors import ConfigError
from recexp.parents import ParentRun
from recexp.runs import STUDY_SPACE, STUDY_SPEC, RunDir, effective_status
from recexp.tune.check import check_study_files
from recexp.tune.journal import repair_torn_tail
from recexp.tune.optuna_parts import FINISHED, STUDY_NAME, enqueue_grid, optuna, state, storage
from recexp.tune.points import check_space
from recexp.tune.session import run_session
from recexp.tune.settings import MONITOR, Study, check_metric, check_search, check_session
from recexp.tune.space import Space, load_space
from recexp.tune.stale import interrupt_running
from recexp.tune.trial import TRIALS, run_status


def run_tune(
    spec: str | Path,
    space: Space | str | Path,
    *,
    trials: int | None = None,
    timeout: float | None = None,
    sampler: str = "tpe",
    pruner: str | Any | None = None,
    jobs: int = 1,
    backend: str = "local",
    address: str | None = None,
    trial_resources: str | None = None,
    overrides: list[str] | None = None,
    runs_root: str | Path = "runs",
    quiet: bool = False,
    kind: str = "tune",
    metric: str = MONITOR,
) -> RunDir:
    """A new study: ``<runs_root>/<stamp>-<name>-<kind>``. ``pruner`` is a name (median,
    asha, none) or, from Python, an Optuna pruner object (local backend, one job)."""
    custom = None if pruner is None or isinstance(pruner, str) else pruner
    if custom is not None and (jobs != 1 or backend != "local"):
        raise ConfigError(
            "a pruner object runs in this process only (local backend, one job)",
            key="pruner",
            got=type(custom).__name__,
        )
    named = None if custom is not None else pruner
    space = space if isinstance(space, Space) else load_space(space)
    base, raw = check_space(spec, space, overrides, every=sampler == "grid")
    trials = check_search(space, sampler, named, trials)
    resources = check_session(jobs, backend, timeout, trial_resources)
    _one_machine(base, spec)
    metric = check_metric(metric, base)
    name = f"{base.name}-{kind}"
    searched = ["name", *(p.key for p in space.params)]  # logged from the selected trial
    with ParentRun.create(
        base, TRIALS, runs_root, quiet, name, unlogged=searched, trials=trials
    ) as parent:
        settings = {
            "spec": str(spec),
            "overrides": list(overrides or []),
            "space_file": space.file,
            "space": space.as_dict(),
            "sampler": sampler,
            "pruner": named,
            "trials": trials,
            "monitor": metric,
        }
        study = _new_study(parent, base, raw, space, settings)
        return run_session(
            study,
            parent,
            timeout=timeout,
            jobs=jobs,
            backend=backend,
            address=address,
            resources=resources,
            pruner=custom,
        )


def _one_machine(base: Any, spec: str | Path) -> None:
    """A study runs its trials here; a multi-worker cluster would need the same trial on
    every worker."""
    if base.training.distribute.strategy == "multi_worker":
        raise ConfigError(
            "a study runs its trials on this machine; multi_worker needs every worker to run "
            "the same trial (train one spec per cluster, or use mirrored)",
            key="training.distribute.strategy",
            got="multi_worker",
            file=str(spec),
        )


def _new_study(
    parent: ParentRun,
    base: ExperimentConfig,
    raw: dict[str, Any],
    space: Space,
    settings: dict[str, Any],
) -> Study:
    """The study's files and Optuna's storage in the parent run's directory."""
    parent.run.write_text(STUDY_SPEC, yaml.safe_dump(raw, sort_keys=False))
    parent.run.write_text(STUDY_SPACE, yaml.safe_dump(space.as_dict(), sort_keys=False))
    settings.update(
        name=base.name,
        seed=base.seed,
        max_epochs=base.training.max_epochs,
        mlflow_run_id=parent.mlflow_run_id,
        sessions=[],
    )
    study = Study(parent.path, settings)  # absolute: RunDir.create resolved it
    study.save()
    created = optuna().create_study(
        study_name=STUDY_NAME, storage=storage(study.path), direction=study.direction
    )
    if settings["sampler"] == "grid":
        enqueue_grid(created, space, [])
    return study


def resume_tune(
    path: str | Path,
    *,
    trials: int | None = None,
    timeout: float | None = None,
    jobs: int = 1,
    backend: str = "local",
    address: str | None = None,
    trial_resources: str | None = None,
    quiet: bool = False,
) -> RunDir:
    """``recexp tune --resume STUDY``: the same study, its finished trials kept; ``trials``
    raises (or lowers) the study's trial count. Every file of the study is checked before
    anything is written (:mod:`recexp.tune.check`); a torn last line of the journal is
    cut (a copy kept) and said so."""
    study = Study.load(path)
    journal = check_study_files(study.path)
    if trials is not None and trials < 1:
        raise ConfigError("needs at least 1", key="--trials", got=trials)
    settings = study.settings
    settings["trials"] = check_search(
        study.space, settings["sampler"], settings["pruner"], trials or study.trials
    )
    resources = check_session(jobs, backend, timeout, trial_resources)
    status = run_status(study.path)
    if effective_status(status) == "running":
        raise ConfigError(
            f"the study is still running (pid {status.get('pid')})", file=str(study.path)
        )
    repaired = repair_torn_tail(journal)
    mlflow_run_id = settings.get("mlflow_run_id")
    with ParentRun.attach(study.path, TRIALS, quiet, mlflow_run_id) as parent:
        if repaired:
            print(repaired, file=sys.stderr)  # a repair is said even with --quiet
        study.save()
        requeue(study)
        return run_session(
            study,
            parent,
            timeout=timeout,
            jobs=jobs,
            backend=backend,
            address=address,
            resources=resources,
        )


def requeue(study: Study) -> int:
    """Before a study goes on: trials left running by a crash are recorded from their run
    directory when it finished, else marked interrupted (in Optuna and in their run
    directory) and run again; a grid gets its unfinished points
    back in the queue. Returns how many trials were left running."""
    loaded, stale = interrupt_running(study, "the study stopped during this trial")
    if study.settings["sampler"] == "grid":
        trials = loaded.get_trials(deepcopy=False)
        done = [t.params for t in trials if state(t) in FINISHED]
        done += [t.system_attrs.get("fixed_params", {}) for t in trials if state(t) == "waiting"]
        enqueue_grid(loaded, study.space, done)
    return stale
