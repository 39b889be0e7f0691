"""The Optuna side of a study: the import, the journal storage in the study directory, the
samplers and pruners by name, and trial states as recexp names them.

The study is Optuna's own (study name ``recexp`` in ``STUDY/study.log``), so Optuna's
tools open it as it is (see :mod:`recexp.tune`).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from recexp.runs import STUDY_STORAGE
from recexp.tune.space import Space

STUDY_NAME = "recexp"
SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "asha", "none")


def optuna() -> Any:
    """The optuna module (imported late: ``recexp --help`` stays fast), quiet."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna


def storage(study_dir: Path) -> Any:
    """The study's journal storage: one append-only file, safe for several processes."""
    journal = optuna().storages.journal
    return journal.JournalStorage(journal.JournalFileBackend(str(Path(study_dir) / STUDY_STORAGE)))


def make_sampler(name: str, seed: int, space: Space, trials: int, parallel: bool = False) -> Any:
    """tpe (``parallel``: with a constant liar), random, or grid (every point enqueued in
    order when the study is made; see :func:`enqueue_grid`)."""
    samplers = optuna().samplers
    if name == "random":
        return samplers.RandomSampler(seed=seed)
    if name == "grid":
        return _grid_sampler()(space.grid(), seed=seed)
    return samplers.TPESampler(
        seed=seed, n_startup_trials=min(10, max(3, trials // 4)), constant_liar=parallel
    )


def _grid_sampler() -> Any:
    class GridSampler(optuna().samplers.GridSampler):  # type: ignore[misc,name-defined]
        """Optuna's grid sampler for ask-and-tell: the study's trial count (capped at the
        grid's size) ends it, not ``study.stop()`` (allowed only inside ``optimize``)."""

        def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
            pass

    return GridSampler


def enqueue_grid(study: Any, space: Space, done: list[dict[str, Any]]) -> None:
    """Every point of a categorical space not in ``done`` (Optuna params), in order (the
    last key varying fastest), as waiting trials: a sweep runs its grid in that order, and
    a resumed one runs exactly the points it has not finished."""
    for point in space.grid_points():
        if point not in done:
            study.enqueue_trial(point, skip_if_exists=False)


def make_pruner(name: str) -> Any:
    """median: below the median of earlier trials at the same epoch (from epoch 8, after
    5 trials); asha: successive halving (rungs at epochs 1, 3, 9, ...); none.

    The median pruner waits 8 epochs because curves cross: a lower learning rate starts
    slower and ends better. Replaying a 40-trial mf study on MovieLens 100K without
    pruning, from epoch 4 it would have trained 30% of the epochs but pruned the best
    trials (best left 0.9004 instead of 0.8992); from epoch 8, 48% and the best kept."""
    pruners = optuna().pruners
    if name == "median":
        return pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=8)
    if name == "asha":
        return pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    return pruners.NopPruner()


def open_study(study_dir: Path, sampler: Any = None, pruner: Any = None) -> Any:
    return optuna().load_study(
        study_name=STUDY_NAME, storage=storage(study_dir), sampler=sampler, pruner=pruner
    )


def state(trial: Any) -> str:
    """complete, pruned, fail, interrupted (failed by Ctrl-C or a crash), running, waiting."""
    name = str(trial.state.name.lower())
    if name == "fail" and trial.user_attrs.get("interrupted"):
        return "interrupted"
    return name


FINISHED = ("complete", "pruned", "fail")


def counted(trials: list[Any]) -> int:
    """Trials that count towards ``--trials``: finished (completed, pruned, failed on their
    own) or running now; an interrupted one is run again, a waiting one has not started."""
    return sum(state(t) in (*FINISHED, "running") for t in trials)


def finished(trials: list[Any]) -> int:
    return sum(state(t) in FINISHED for t in trials)


def completed(trials: list[Any]) -> int:
    """Trials that ran to their end (completed or pruned): a parent's children completed."""
    return sum(state(t) in ("complete", "pruned") for t in trials)
