"""One trial: its config from a point of the space, its run as a child of the study
(:class:`recexp.parents.ParentRun`), its pruning, and what Optuna is told about it.

Every backend runs a trial through :func:`run_trial` (local, a worker process) or
:func:`build_trial` and :func:`tell_from_run` (Ray, whose searcher does the telling).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from recexp.config import ExperimentConfig
from recexp.display import Display
from recexp.errors import RecexpError, TrainingError
from recexp.parents import ParentRun
from recexp.runs import STATUS, RunDir
from recexp.training.events import StopTraining
from recexp.tune.optuna_parts import optuna
from recexp.tune.points import trial_config
from recexp.tune.settings import MONITOR, Study

TRIALS = "trials"  # the study's children: STUDY/trials/<run>


def trial_name(base: str, number: int) -> str:
    return f"{base}-t{number:03d}"


def trial_run_dir(study: Study, number: int, attrs: dict[str, Any] | None = None) -> Path | None:
    """A trial's run directory: recorded in its user attrs, else found by its name."""
    rel = (attrs or {}).get("run_dir")
    if rel:
        return study.path / rel
    found = sorted((study.path / TRIALS).glob(f"*-{trial_name(study.base_name, number)}"))
    return found[-1] if found else None


def run_status(path: Path | None) -> dict[str, Any]:
    """A run directory's status.json, or ``{}``."""
    try:
        return dict(RunDir(path).read_json(STATUS)) if path is not None else {}
    except (OSError, ValueError):
        return {}


def val_metric(path: Path | None, metric: str = MONITOR) -> float | None:
    """The run's validation ``metric`` (``val_rmse``, ``val_mae``, ``val_ndcg@10``, ...) from
    its metrics.json, when it has a finite one."""
    try:
        val = RunDir(path).metrics().val if path is not None else None
    except ValueError:
        return None
    name = metric.removeprefix("val_")
    value = None if val is None else getattr(val, name, None) or (val.ranking or {}).get(name)
    return value if isinstance(value, (int, float)) and math.isfinite(value) else None


def settle_finished(study: Study, storage: Any, trial: Any) -> str | None:
    """A trial Optuna still has as running after a crash, whose run directory says it
    finished (the crash came after the run, before Optuna was told): its result recorded
    from the run, as :func:`tell_from_run` would have. ``None`` when the run did not
    finish (it is to be run again)."""
    states = optuna().trial.TrialState
    path = trial_run_dir(study, trial.number, trial.user_attrs)
    status = run_status(path).get("status")
    value = val_metric(path, study.metric) if status == "completed" else None
    if path is None or (status != "pruned" and value is None):
        return None
    storage.set_trial_user_attr(trial._trial_id, "run_dir", str(path.relative_to(study.path)))
    if status == "pruned":
        storage.set_trial_state_values(trial._trial_id, states.PRUNED)
        return "pruned"
    storage.set_trial_state_values(trial._trial_id, states.COMPLETE, [value])
    return "complete"


def attach(study: Study) -> ParentRun:
    """The study as a parent to add trials to, from any process (a worker, a Ray task)."""
    return ParentRun.attach(study.path, TRIALS, True, study.settings.get("mlflow_run_id"))


def build_trial(study: Study, number: int, values: dict[str, Any]) -> ExperimentConfig:
    config = monitored(trial_config(study.raw, values), study.metric)
    return config.model_copy(update={"name": trial_name(study.base_name, number)})


def monitored(config: ExperimentConfig, metric: str) -> ExperimentConfig:
    """A study that selects on a ranking metric stops its trials early on it too (and so
    logs it each epoch, for the pruner): a rating monitor is swapped for ``metric``."""
    from recexp.evaluation.options import is_ranking_metric

    stopping = config.training.early_stopping
    if not is_ranking_metric(metric) or stopping is None or is_ranking_metric(stopping.monitor):
        return config
    stopping = stopping.model_copy(update={"monitor": metric, "mode": "auto"})
    training = config.training.model_copy(update={"early_stopping": stopping})
    return config.model_copy(update={"training": training})


class PruneListener:
    """Feeds each epoch's val RMSE to an Optuna trial; asks its pruner whether to go on."""

    def __init__(self, trial: Any, pruner: str, metric: str = MONITOR) -> None:
        self.trial, self.pruner, self.metric = trial, pruner, metric

    def on_epoch(self, row: dict[str, Any]) -> None:
        value, epoch = row.get(self.metric), int(row.get("epoch", 0))
        if value is None or not math.isfinite(value):
            return
        self.trial.report(float(value), epoch)
        if self.trial.should_prune():
            raise StopTraining(
                f"pruned by the {self.pruner} pruner at epoch {epoch} ({self.metric} {value:.4f})"
            )


def tell_from_run(study: Study, optuna_study: Any, trial: Any, path: Path | None) -> str:
    """Record in Optuna what the trial's run directory says; returns the state."""
    states = optuna().trial.TrialState
    status = run_status(path)
    if path is not None:
        trial.set_user_attr("run_dir", str(path.relative_to(study.path)))
    if status.get("status") == "pruned":
        optuna_study.tell(trial, state=states.PRUNED)
        return "pruned"
    if status.get("status") == "interrupted":
        trial.set_user_attr("interrupted", True)
        optuna_study.tell(trial, state=states.FAIL)
        return "interrupted"
    value = val_metric(path, study.metric) if status.get("status") == "completed" else None
    if value is None:
        if "error" not in trial.user_attrs:
            trial.set_user_attr("error", status.get("error") or f"no {study.metric}")
        optuna_study.tell(trial, state=states.FAIL)
        return "fail"
    optuna_study.tell(trial, value)
    return "complete"


def run_trial(study: Study, parent: ParentRun, optuna_study: Any, trial: Any, pruner: str) -> str:
    """Run one asked trial in this process; returns its state. A diverged trial is
    recorded as failed and the study goes on; Ctrl-C ends the trial as interrupted (run
    again on resume) and is raised again."""
    # many models in one process is the point here: no "tf.function retracing" warnings
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    path: Path | None = None
    try:
        config = build_trial(study, trial.number, study.space.suggest(trial))
        path = parent.run_child(
            config, [PruneListener(trial, pruner, study.metric)], Display(quiet=True)
        ).path
    except RecexpError as error:  # a NaN loss, a point the schema refuses: the study goes on
        trial.set_user_attr("error", str(error))
        if isinstance(error, TrainingError):
            path = trial_run_dir(study, trial.number)
    except BaseException as error:
        path = trial_run_dir(study, trial.number)
        if path is not None:
            trial.set_user_attr("run_dir", str(path.relative_to(study.path)))
        interrupted = isinstance(error, KeyboardInterrupt)
        trial.set_user_attr(
            "interrupted" if interrupted else "error", True if interrupted else str(error)
        )
        optuna_study.tell(trial, state=optuna().trial.TrialState.FAIL)
        raise
    return tell_from_run(study, optuna_study, trial, path)
