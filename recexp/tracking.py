"""Record a run where people already look: MLflow and TensorBoard.

Both trackers are epoch listeners (``on_epoch(row)``, see recexp.training) with a start
and an end around the run::

    tracker.start(resolved_config, run_path)   # the run directory exists
    tracker.on_epoch(row)                      # once per epoch
    tracker.finish(metrics, status, run_path)  # metrics.json written, final status known

mlflow and TensorFlow are imported only when a tracker is made or started.
:func:`trackers_from_options` opens and probes each store *before* the run directory is
made: a store that cannot be written or reached is one line, exit 2, and no run directory
(:mod:`recexp.tracking_probe`). A store that fails *during* training does not fail the
run: the tracker prints one warning and stops logging (the run directory stays the record).

This module holds what both share (:class:`Tracker`, :func:`trackers_from_options`,
:func:`start_all`, :func:`finish_all`); the trackers live in :mod:`recexp.tracking_mlflow`
and :mod:`recexp.tracking_tensorboard`, the flattening of specs and metrics in
:mod:`recexp.tracking_values`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from recexp.tracking_mlflow import (
    DEFAULT_STORE,
    MLFLOW_STATUS,
    PARAM_BATCH,
    MlflowTracker,
    require_mlflow,
    resolve_uri,
)
from recexp.tracking_options import TrackingOptions
from recexp.tracking_tensorboard import TENSORBOARD_DIR, TensorBoardTracker
from recexp.tracking_values import PARAM_VALUE_MAX, flatten, numeric_metrics, param_value

__all__ = [
    "DEFAULT_STORE",
    "MLFLOW_STATUS",
    "PARAM_BATCH",
    "PARAM_VALUE_MAX",
    "TENSORBOARD_DIR",
    "MlflowTracker",
    "TensorBoardTracker",
    "Tracker",
    "finish_all",
    "flatten",
    "numeric_metrics",
    "param_value",
    "require_mlflow",
    "resolve_uri",
    "start_all",
    "trackers_from_options",
]


class Tracker(Protocol):
    def start(self, resolved_config: Mapping[str, Any], run_path: str | Path) -> None: ...
    def on_epoch(self, row: Mapping[str, float]) -> None: ...
    def finish(self, metrics: Mapping[str, Any], status: str, run_path: str | Path) -> None: ...
    def log_params(self, params: Mapping[str, Any]) -> None: ...


def trackers_from_options(
    options: TrackingOptions | None,
    *,
    parent_run_id: str | None = None,
    run_name: str | None = None,
) -> list[Tracker]:
    """The trackers a spec's ``tracking`` block asks for (an empty list for None), each
    store probed: call it before the run directory exists. ``parent_run_id`` makes the
    MLflow run a nested child (a sweep trial, a fold)."""
    out: list[Tracker] = []
    if options is None:
        return out
    if options.mlflow is not None:
        mlflow = MlflowTracker(
            options.mlflow.uri,
            options.mlflow.experiment,
            parent_run_id=parent_run_id,
            run_name=run_name,
        )
        mlflow.probe()
        out.append(mlflow)
    if options.tensorboard:
        out.append(TensorBoardTracker())
    return out


def start_all(
    trackers: Sequence[Tracker], resolved_config: Mapping[str, Any], run_path: str | Path
) -> None:
    for tracker in trackers:
        tracker.start(resolved_config, run_path)


def finish_all(
    trackers: Sequence[Tracker], metrics: Mapping[str, Any], status: str, run_path: str | Path
) -> None:
    for tracker in trackers:
        tracker.finish(metrics, status, run_path)


def log_params_all(trackers: Sequence[Tracker], params: Mapping[str, Any]) -> None:
    """More params for runs already started (a study's selected trial's spec)."""
    for tracker in trackers:
        tracker.log_params(params)
