"""``recexp tune --backend ray``: the same study through Ray Tune.

Ray Tune's ``OptunaSearch`` samples from the study's own journal storage (so the study,
``--resume`` and study.json are the same as with the local backend) and its ASHA scheduler
(or median stopping rule) decides on the per-epoch val RMSE which trials stop early. Each
trial is one Ray task with its own resources (``--trial-resources cpu=2,gpu=1``) and writes
an ordinary run directory under the study's ``trials/``: on a cluster the study directory
must be on storage every node sees.

A trial stopped by the scheduler must still end as a ``pruned`` run (history, metrics,
best weights), so the scheduler never kills it: its STOP becomes a note on a small actor,
and the trial's epoch listener, which waits for the decision on each epoch it reports,
raises the run's StopTraining. This module is the only one that imports Ray.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from pathlib import Path
from typing import Any

import ray
from ray import tune
from ray.tune.schedulers import AsyncHyperBandScheduler, FIFOScheduler, MedianStoppingRule
from ray.tune.schedulers.trial_scheduler import TrialScheduler
from ray.tune.search import Searcher
from ray.tune.search.optuna import OptunaSearch

from recexp.tune.study import (
    MONITOR,
    STUDY_NAME,
    TRIALS_DIR,
    Study,
    _optuna,
    counted,
    make_sampler,
    storage,
    tell_from_run,
    trial_run_dir,
)

#: how long a trial waits, after reporting an epoch, for the scheduler's decision
DECISION_WAIT_S = 10.0


@ray.remote(num_cpus=0)
class Decisions:
    """Per Ray trial: the last epoch the scheduler has seen, and whether to stop there."""

    def __init__(self) -> None:
        self.seen: dict[str, tuple[int, bool]] = {}

    def decide(self, trial_id: str, epoch: int, stop: bool) -> None:
        previous = self.seen.get(trial_id, (0, False))
        self.seen[trial_id] = (max(epoch, previous[0]), stop or previous[1])

    def get(self, trial_id: str) -> tuple[int, bool]:
        return self.seen.get(trial_id, (0, False))


class _Deciding:
    """Mixin: the wrapped scheduler's STOP before the last epoch is posted to
    :class:`Decisions` and the trial continues, to end itself as pruned."""

    decisions: Any
    max_epochs: int

    def on_trial_result(self, tune_controller: Any, trial: Any, result: dict[str, Any]) -> str:
        action = super().on_trial_result(tune_controller, trial, result)  # type: ignore[misc]
        epoch = int(result.get("epoch", result.get("training_iteration", 0)))
        stop = action == TrialScheduler.STOP and epoch < self.max_epochs
        self.decisions.decide.remote(trial.trial_id, epoch, stop)
        return TrialScheduler.CONTINUE


class DecidingASHA(_Deciding, AsyncHyperBandScheduler):
    def __init__(self, decisions: Any, max_epochs: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.decisions, self.max_epochs = decisions, max_epochs


class DecidingMedian(_Deciding, MedianStoppingRule):
    def __init__(self, decisions: Any, max_epochs: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.decisions, self.max_epochs = decisions, max_epochs


class DecidingFIFO(_Deciding, FIFOScheduler):
    def __init__(self, decisions: Any, max_epochs: int) -> None:
        super().__init__()
        self.decisions, self.max_epochs = decisions, max_epochs


class StudySearch(OptunaSearch):
    """Ray's OptunaSearch on the study's storage, recording each trial from its run
    directory (completed: its val RMSE; pruned; failed), and starting no trial after the
    deadline."""

    def __init__(self, study: Study, deadline: float | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.study = study
        self.deadline = deadline
        self.suggested = 0

    def save(self, checkpoint_path: str) -> None:
        """Nothing: the study lives in its own storage (Ray's experiment restore is unused;
        ``recexp tune --resume`` continues the study)."""

    def restore(self, checkpoint_path: str) -> None:
        pass

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        if self.deadline is not None and self.suggested and time.time() >= self.deadline:
            return Searcher.FINISHED  # type: ignore[return-value]
        self.suggested += 1
        return super().suggest(trial_id)  # type: ignore[no-any-return]

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        trial = self._ot_trials.get(trial_id)
        value = result.get(MONITOR)
        if trial is not None and value is not None and "epoch" in result:
            trial.report(float(value), int(result["epoch"]))

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        if trial_id in self._completed_trials or trial_id not in self._ot_trials:
            return
        trial = self._ot_trials[trial_id]
        path = trial_run_dir(self.study, trial.number)
        if error and path is None:
            trial.set_user_attr("error", "the Ray task failed before its run started")
        tell_from_run(self.study, self._ot_study, trial, path)
        self._completed_trials.add(trial_id)


class RayListener:
    """In the Ray task: reports each epoch to Tune, waits for the scheduler's decision and
    stops the run (pruned) when it says so."""

    def __init__(self, decisions: Any, trial_id: str, wait: bool) -> None:
        self.decisions = decisions
        self.trial_id = trial_id
        self.wait = wait

    def on_epoch(self, row: dict[str, float]) -> None:
        from recexp.tune._compat import stop_training

        value = row.get(MONITOR)
        epoch = int(row.get("epoch", 0))
        if value is None:
            return
        tune.report({MONITOR: float(value), "epoch": epoch})
        if not self.wait:
            return
        give_up = time.time() + DECISION_WAIT_S
        while True:
            seen, stop = ray.get(self.decisions.get.remote(self.trial_id))
            if seen >= epoch or time.time() >= give_up:
                break
            time.sleep(0.05)
        if stop:
            raise stop_training(
                f"stopped by the Ray scheduler at epoch {epoch} ({MONITOR} {value:.4f})"
            )


def _trainable(
    config: dict[str, Any], study_dir: str, cwd: str, decisions: Any, wait: bool
) -> None:
    """One trial, in a Ray task: builds the config and trains it into the study's trials/."""
    os.chdir(cwd)  # relative dataset paths as on the command line
    from recexp.display import Display
    from recexp.errors import TrainingError
    from recexp.tune._compat import run_with_listeners
    from recexp.tune.study import build_trial

    study = Study.load(study_dir)
    values = study.space.decode({k: v for k, v in config.items() if k in study.space.keys})
    run_config = build_trial(study, int(config["number"]), values)
    listener = RayListener(decisions, tune.get_context().get_trial_id(), wait)
    with contextlib.suppress(TrainingError):  # the run directory says failed: recorded
        run_with_listeners(
            run_config,
            study.path / TRIALS_DIR,
            display=Display(quiet=True),
            quiet=True,
            listeners=[listener],
        )


def run_ray(
    study: Study,
    *,
    session: int,
    deadline: float | None,
    address: str | None,
    resources: dict[str, float],
    quiet: bool,
) -> None:
    """The study's remaining trials through Ray Tune, on a local Ray or ``address``."""
    optuna = _optuna()
    settings = study.settings
    space = study.space
    remaining = int(settings["trials"]) - counted(
        optuna.load_study(study_name=STUDY_NAME, storage=storage(study.path)).get_trials(
            deepcopy=False
        )
    )
    if remaining <= 0:
        return
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # no experiment banner: our table
    for name in ("ray.tune", "ray.train"):
        logging.getLogger(name).setLevel(logging.WARNING)
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(
            address=address,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
    try:
        decisions = Decisions.remote()  # type: ignore[attr-defined]
        pruner = settings.get("pruner") or "asha"
        max_epochs = int(settings["max_epochs"])
        scheduler: Any
        if pruner == "asha":
            scheduler = DecidingASHA(
                decisions,
                max_epochs,
                time_attr="epoch",
                metric=MONITOR,
                mode="min",
                max_t=max_epochs,
                grace_period=1,
                reduction_factor=3,
            )
        elif pruner == "median":
            scheduler = DecidingMedian(
                decisions,
                max_epochs,
                time_attr="epoch",
                metric=MONITOR,
                mode="min",
                grace_period=2,
                min_samples_required=3,
            )
        else:
            scheduler = DecidingFIFO(decisions, max_epochs)

        def define(trial: Any) -> dict[str, Any]:
            space.suggest(trial)
            return {"number": trial.number}

        search = StudySearch(
            study,
            deadline,
            space=define,
            metric=MONITOR,
            mode="min",
            sampler=make_sampler(
                settings["sampler"],
                int(settings["seed"]) + 1000 * session,
                space,
                int(settings["trials"]),
                parallel=True,
            ),
            study_name=STUDY_NAME,
            storage=storage(study.path),
        )
        trainable = tune.with_resources(
            tune.with_parameters(
                _trainable,
                study_dir=str(study.path),
                cwd=os.getcwd(),
                decisions=decisions,
                wait=pruner != "none",
            ),
            resources,
        )
        tuner = tune.Tuner(
            trainable,
            tune_config=tune.TuneConfig(
                search_alg=search, scheduler=scheduler, num_samples=remaining
            ),
            run_config=tune.RunConfig(
                name=f"session-{session}",
                storage_path=str(Path(study.path) / "ray"),
                verbose=0,
            ),
        )
        tuner.fit()
    finally:
        if started_here:
            ray.shutdown()
