"""Ray Tune's schedulers for a study, made to prune instead of kill.

A trial stopped by the scheduler must still end as a ``pruned`` run (history, metrics,
best weights), so the scheduler never kills it: its STOP becomes a note on a small actor
(:class:`Decisions`), and the trial's epoch listener, which waits for the decision on
each epoch it reports, raises the run's StopTraining.
"""

from __future__ import annotations

from typing import Any

import ray
from ray.tune.schedulers import AsyncHyperBandScheduler, FIFOScheduler, MedianStoppingRule
from ray.tune.schedulers.trial_scheduler import TrialScheduler

from recexp.tune.settings import MONITOR


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


def make_scheduler(
    pruner: str, decisions: Any, max_epochs: int, metric: str = MONITOR, mode: str = "min"
) -> Any:
    """asha (rungs at epochs 1, 3, 9, ...), median (from epoch 2, after 3 trials), none;
    on the study's ``metric`` (``mode``: min for errors, max for top-N metrics)."""
    if pruner == "asha":
        return DecidingASHA(
            decisions,
            max_epochs,
            time_attr="epoch",
            metric=metric,
            mode=mode,
            max_t=max_epochs,
            grace_period=1,
            reduction_factor=3,
        )
    if pruner == "median":
        return DecidingMedian(
            decisions,
            max_epochs,
            time_attr="epoch",
            metric=metric,
            mode=mode,
            grace_period=2,
            min_samples_required=3,
        )
    return DecidingFIFO(decisions, max_epochs)
