"""``recexp tune --backend ray``: the same study through Ray Tune.

Ray Tune's ``OptunaSearch`` samples from the study's own journal storage (so the study,
``--resume`` and study.json are the same as with the local backend) and its ASHA scheduler
(or median stopping rule, :mod:`recexp.tune.ray_schedulers`) decides on the per-epoch val
RMSE which trials stop early. Each trial is one Ray task with its own resources
(``--trial-resources cpu=2,gpu=1``) and writes an ordinary run directory under the
study's ``trials/`` as a child of the study: on a cluster the study directory must be on
storage every node sees. These two modules are the only ones that import Ray.
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
from ray.tune.search import Searcher
from ray.tune.search.optuna import OptunaSearch

from recexp.tune.optuna_parts import STUDY_NAME, counted, make_sampler, open_study, storage
from recexp.tune.ray_schedulers import Decisions, make_scheduler
from recexp.tune.settings import MONITOR, Study
from recexp.tune.stale import interrupt_running
from recexp.tune.trial import tell_from_run, trial_run_dir

#: how long a trial waits, after reporting an epoch, for the scheduler's decision
DECISION_WAIT_S = 10.0


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
        value = result.get(self.study.metric)
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

    def __init__(self, decisions: Any, trial_id: str, wait: bool, metric: str = MONITOR) -> None:
        self.decisions = decisions
        self.trial_id = trial_id
        self.wait = wait
        self.metric = metric

    def on_epoch(self, row: dict[str, Any]) -> None:
        from recexp.training.events import StopTraining

        value = row.get(self.metric)
        epoch = int(row.get("epoch", 0))
        if value is None:
            return
        tune.report({self.metric: float(value), "epoch": epoch})
        if not self.wait:
            return
        give_up = time.time() + DECISION_WAIT_S
        while True:
            try:
                seen, stop = ray.get(self.decisions.get.remote(self.trial_id))
            except ray.exceptions.RayActorError:  # the study's process is gone (Ctrl-C)
                raise KeyboardInterrupt from None  # so this trial is interrupted, not failed
            if seen >= epoch or time.time() >= give_up:
                break
            time.sleep(0.05)
        if stop:
            raise StopTraining(
                f"stopped by the Ray scheduler at epoch {epoch} ({self.metric} {value:.4f})"
            )


def _trainable(
    config: dict[str, Any], study_dir: str, cwd: str, decisions: Any, wait: bool
) -> None:
    """One trial, in a Ray task: builds the config and trains it as a child of the study."""
    os.chdir(cwd)  # relative dataset paths as on the command line
    from recexp.display import Display
    from recexp.errors import RecexpError
    from recexp.tune.trial import attach, build_trial

    study = Study.load(study_dir)
    values = study.space.decode({k: v for k, v in config.items() if k in study.space.keys})
    listener = RayListener(decisions, tune.get_context().get_trial_id(), wait, study.metric)
    with contextlib.suppress(RecexpError):  # the run directory (or its absence) says failed
        run_config = build_trial(study, int(config["number"]), values)
        attach(study).run_child(run_config, [listener], Display(quiet=True))


def _search(study: Study, session: int, deadline: float | None) -> StudySearch:
    settings, space = study.settings, study.space

    def define(trial: Any) -> dict[str, Any]:
        space.suggest(trial)
        return {"number": trial.number}

    seed = int(settings["seed"]) + 1000 * session
    return StudySearch(
        study,
        deadline,
        space=define,
        metric=study.metric,
        mode=study.mode,
        sampler=make_sampler(settings["sampler"], seed, space, study.trials, parallel=True),
        study_name=STUDY_NAME,
        storage=storage(study.path),
    )


def _ray_settings() -> None:
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # no experiment banner: our table
    # Ctrl-C raises KeyboardInterrupt here, as with every other parent (exit 130, status
    # interrupted); Ray's own handler would end the experiment quietly and return
    os.environ.setdefault("TUNE_DISABLE_SIGINT_HANDLER", "1")
    for name in ("ray.tune", "ray.train"):
        logging.getLogger(name).setLevel(logging.WARNING)


def run_ray(
    study: Study,
    *,
    session: int,
    deadline: float | None,
    address: str | None,
    resources: dict[str, float],
) -> None:
    """The study's remaining trials through Ray Tune, on a local Ray or ``address``."""
    remaining = study.trials - counted(open_study(study.path).get_trials(deepcopy=False))
    if remaining <= 0:
        return
    _ray_settings()
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(
            address=address,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.ERROR,  # no banners under our table (or --quiet)
        )
    try:
        decisions = Decisions.remote()  # type: ignore[attr-defined]
        pruner = study.settings.get("pruner") or "asha"
        max_epochs = int(study.settings["max_epochs"])
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
                search_alg=_search(study, session, deadline),
                scheduler=make_scheduler(pruner, decisions, max_epochs, study.metric, study.mode),
                num_samples=remaining,
            ),
            run_config=tune.RunConfig(
                name=f"session-{session}",
                storage_path=str(Path(study.path) / "ray"),
                verbose=0,
            ),
        )
        tuner.fit()
    except KeyboardInterrupt:
        if started_here:
            ray.shutdown()  # its tasks end with it
        interrupt_running(study, "the study was interrupted during this trial")
        raise
    finally:
        if started_here and ray.is_initialized():
            ray.shutdown()
