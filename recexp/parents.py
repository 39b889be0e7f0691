"""A parent run whose result comes from its children: k folds, seeds, a grid sweep, a
tuning study. One mechanism for all of them.

The parent directory holds config.yaml, status.json and metrics.json; each child is a
complete run directory in ``<parent>/<kind>/``. Folds and seeds aggregate their children
(mean ± sample std); a sweep or a study copies the child it selected on validation. Any
error or Ctrl-C marks the parent ``failed`` or ``interrupted`` with how many children
completed, and stops the remaining ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from recexp.config import ExperimentConfig
from recexp.display import Display
from recexp.errors import ConfigError
from recexp.parent_metrics import aggregate
from recexp.run_metrics import Metrics
from recexp.runs import CONFIG, RunDir
from recexp.training.events import EpochListener


def train(
    config: ExperimentConfig,
    runs_root: str | Path = "runs",
    quiet: bool = False,
    seeds: list[int] | None = None,
    listeners: Sequence[EpochListener] = (),
) -> RunDir:
    """``recexp train``: one run, or a parent run of k folds or of seeds. On a multi-worker
    cluster every worker calls this; only the chief's runs stay (see ``runs_root_for``)."""
    from recexp.experiment import run_experiment
    from recexp.training.distribute_options import is_chief, runs_root_for

    with runs_root_for(config.training.distribute, runs_root) as root:
        quiet = quiet or not is_chief(config.training.distribute)
        if seeds is not None:
            return run_seeds(config, seeds, root, quiet)
        if getattr(config.dataset.split, "folds", None):
            return run_folds(config, root, quiet)
        return run_experiment(config, root, quiet=quiet, listeners=listeners)


class ParentRun:
    """``with ParentRun.create(config, "folds", root) as parent: parent.run_child(c) ...``"""

    def __init__(
        self,
        run: RunDir,
        kind: str,
        display: Display,
        trackers: list[Any],
        mlflow_run_id: str | None = None,
    ) -> None:
        self.run, self.kind, self.display = run, kind, display
        self.trackers = trackers  # the parent's own MLflow run, when the spec asks for one
        self._mlflow_run_id = mlflow_run_id  # or one started by an earlier process
        self.completed = 0

    @classmethod
    def create(
        cls,
        config: ExperimentConfig,
        kind: str,
        runs_root: str | Path,
        quiet: bool = False,
        name: str | None = None,
        mlflow_parent: str | None = None,
        unlogged: Sequence[str] = (),
        **status: Any,
    ) -> ParentRun:
        """``unlogged``: spec keys not logged as MLflow params at the start (a study's
        searched keys: its selected trial's values are logged at the end)."""
        from recexp.tracking import start_all, trackers_from_options
        from recexp.tracking_values import without

        only_mlflow = config.tracking.model_copy(update={"tensorboard": False})
        trackers = trackers_from_options(
            only_mlflow, parent_run_id=mlflow_parent, run_name=name or config.name
        )
        run = RunDir.create(runs_root, name or config.name)
        run.set_status("running", **status)
        run.write_text(CONFIG, yaml.safe_dump(config.resolved(), sort_keys=False))
        start_all(trackers, without(config.resolved(), unlogged), run.path)
        return cls(run, kind, Display(quiet=quiet), trackers)

    @classmethod
    def attach(
        cls, path: str | Path, kind: str, quiet: bool = False, mlflow_run_id: str | None = None
    ) -> ParentRun:
        """A parent run that exists already, to add children to: a resumed study, or a
        worker process running some of a study's trials. As a context it marks the parent
        failed or interrupted, as one from :meth:`create` does (a worker does not enter it:
        the process that started the workers owns the parent's status)."""
        return cls(RunDir(Path(path)), kind, Display(quiet=quiet), [], mlflow_run_id)

    @property
    def mlflow_run_id(self) -> str | None:
        started = (t.run_id for t in self.trackers if getattr(t, "run_id", None))
        return next(started, self._mlflow_run_id)

    @property
    def path(self) -> Path:
        return self.run.path

    def run_child(
        self,
        config: ExperimentConfig,
        listeners: Sequence[EpochListener] = (),
        display: Display | None = None,
    ) -> RunDir:
        """Train ``config`` as one child (a trial whose split asks for k folds: k folds).
        ``listeners`` see each epoch (a tuner's pruner); a child they stop is ``pruned``
        and returned like a completed one. ``display``: the child's, else the parent's."""
        from recexp.experiment import run_experiment

        root = self.run.child_root(self.kind)
        parent_id = self.mlflow_run_id
        display = display or self.display
        if self.kind != "folds" and getattr(config.dataset.split, "folds", None):
            child = run_folds(config, root, display.quiet, mlflow_parent=parent_id)
        else:
            child = run_experiment(
                config, root, display=display, listeners=listeners, mlflow_parent=parent_id
            )
        self.completed += 1
        return child

    def complete(self, metrics: Metrics, **status: Any) -> None:
        """metrics.json, and status ``completed``."""
        self.end(metrics, "completed", **status)

    def end(self, metrics: Metrics, state: str, **status: Any) -> None:
        """metrics.json and a final status: ``completed``, or ``stopped`` for a parent
        that may go on later (a study whose timeout came first)."""
        from recexp.tracking import finish_all

        self.run.write_metrics(metrics)
        self.run.set_status(state, **status)
        finish_all(self.trackers, metrics.as_json(), state, self.path)

    def __enter__(self) -> ParentRun:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if error is None:
            return
        from recexp.tracking import finish_all

        state = "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"
        self.run.set_status(
            state,
            error=str(error) or error.__class__.__name__,
            **{f"{self.kind}_completed": self.completed},
        )
        finish_all(self.trackers, {}, state, self.path)


def run_folds(
    config: ExperimentConfig,
    runs_root: str | Path = "runs",
    quiet: bool = False,
    mlflow_parent: str | None = None,
) -> RunDir:
    """``split.folds: K``: one run per fold under a parent run whose metrics are mean ± std."""
    from recexp.data import fold_splits

    children = []
    for i, split in enumerate(fold_splits(config.dataset.split)):
        dataset = config.dataset.model_copy(update={"split": split})
        children.append(
            config.model_copy(update={"dataset": dataset, "name": f"{config.name}-fold{i}"})
        )
    return _run_repeats(config, children, "folds", runs_root, quiet, mlflow_parent)


def parse_seeds(text: str) -> list[int]:
    """``"42,1,2"`` -> ``[42, 1, 2]``; a one-line error for anything else."""
    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(
            "seeds are integers separated by commas", key="--seeds", got=text
        ) from None
    bad = [s for s in seeds if not 0 <= s < 2**32]
    if bad:
        raise ConfigError("seeds must be between 0 and 2**32 - 1", key="--seeds", got=bad[0])
    return seeds


def run_seeds(
    config: ExperimentConfig, seeds: list[int], runs_root: str | Path = "runs", quiet: bool = False
) -> RunDir:
    """The same spec once per seed (each a new split and new initial weights), under a
    parent run whose metrics are mean ± std over the seeds, as for k folds."""
    if len(set(seeds)) != len(seeds) or len(seeds) < 2:
        raise ConfigError("give at least two distinct seeds", key="--seeds", got=seeds)
    if getattr(config.dataset.split, "folds", None):
        raise ConfigError("repeat seeds or k folds, not both", key="dataset.split.folds", got=seeds)
    children = [
        config.model_copy(update={"seed": seed, "name": f"{config.name}-seed{seed}"})
        for seed in seeds
    ]
    return _run_repeats(config, children, "seeds", runs_root, quiet)


def _run_repeats(
    config: ExperimentConfig,
    children: list[ExperimentConfig],
    kind: str,
    runs_root: str | Path,
    quiet: bool,
    mlflow_parent: str | None = None,
) -> RunDir:
    name = f"{config.name}-{kind}"  # <stamp>-mf-seeds: not to be taken for a single run
    parent = ParentRun.create(config, kind, runs_root, quiet, name, mlflow_parent=mlflow_parent)
    parent.run.set_status("running", **{kind: len(children)})
    with parent:
        done = []
        for i, child in enumerate(children):
            parent.display.message(f"{kind.rstrip('s')} {i + 1}/{len(children)}")
            done.append(parent.run_child(child).metrics())
        metrics = aggregate(done, kind)
        if kind == "seeds":
            metrics.seeds = [c.seed for c in children]  # type: ignore[attr-defined]
        parent.complete(metrics, **{kind: len(done)})
    parent.display.message(
        f"{len(done)} {kind}: test RMSE {metrics.test.rmse:.4f} ± "
        f"{metrics.test.rmse_std:.4f}  -> {parent.path}"
    )
    return parent.run
