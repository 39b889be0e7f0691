"""A study directory and its settings (``tune.json``): the spec and space every trial is
built from, the sampler, pruner and trial count, and one record per session; and the
checks of the command's options, all before anything is written.
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recexp.errors import ConfigError
from recexp.readers import read_json, read_yaml
from recexp.runs import STUDY_SETTINGS, STUDY_SPEC, RunDir
from recexp.tune.optuna_parts import PRUNERS, SAMPLERS
from recexp.tune.space import Space

MONITOR = "val_rmse"  # the default metric a study selects on
#: what ``--metric`` may name: a validation rating metric or a validation ranking metric
RATING_METRICS = ("val_rmse", "val_mae")
BACKENDS = ("local", "ray")
RAY_INSTALL = "pip install 'recexp[ray]'"


@dataclass
class Study:
    """A study directory and its settings (tune.json)."""

    path: Path
    settings: dict[str, Any]

    @property
    def run(self) -> RunDir:
        return RunDir(self.path)

    @property
    def space(self) -> Space:
        return Space.from_dict(self.settings["space"], file=self.settings.get("space_file"))

    @property
    def raw(self) -> dict[str, Any]:
        """The spec as written, ``--set`` applied: what each trial's values apply to."""
        return read_yaml(self.path / STUDY_SPEC, "study spec")

    @property
    def base_name(self) -> str:
        return str(self.settings["name"])

    @property
    def metric(self) -> str:
        """What the study selects on: ``val_rmse`` (the default) or e.g. ``val_ndcg@10``."""
        return str(self.settings.get("monitor") or MONITOR)

    @property
    def direction(self) -> str:
        return metric_direction(self.metric)

    @property
    def mode(self) -> str:
        """Ray Tune's word for the direction: ``min`` or ``max``."""
        return "max" if self.direction == "maximize" else "min"

    @property
    def trials(self) -> int:
        return int(self.settings["trials"])

    def save(self) -> None:
        self.run.write_json(STUDY_SETTINGS, self.settings)

    @classmethod
    def load(cls, path: str | Path) -> Study:
        """The study at ``path``; a tune.json that is missing, unreadable or not a study's
        settings is one line naming it (see :func:`recexp.tune.check.check_settings`)."""
        from recexp.tune.check import check_settings

        path = Path(path)
        file = path / STUDY_SETTINGS
        if not file.is_file():
            raise ConfigError(
                f"not a tune study directory (no {STUDY_SETTINGS})", file=str(path)
            ) from None
        settings = check_settings(read_json(file, dict, "study settings"), str(file))
        return cls(path.resolve(), settings)


def metric_direction(metric: str) -> str:
    """``minimize`` for errors, ``maximize`` for top-N metrics."""
    from recexp.evaluation.options import is_ranking_metric

    return "maximize" if is_ranking_metric(metric) else "minimize"


def check_metric(metric: str, config: Any) -> str:
    """``--metric``: a validation metric every trial of ``config`` reports, or one line."""
    from recexp.evaluation.options import is_ranking_metric, monitor_problem

    if metric not in RATING_METRICS and not (
        metric.startswith("val_") and is_ranking_metric(metric)
    ):
        raise ConfigError(
            "expected val_rmse, val_mae or a validation ranking metric (val_ndcg@10, "
            "val_recall@20, val_mrr, ...)",
            key="--metric",
            got=metric,
        )
    problem = monitor_problem(metric, config.evaluation.ranking)
    if problem:
        raise ConfigError(problem, key="--metric", got=metric)
    return metric


def parse_resources(text: str | None) -> dict[str, float]:
    """``"cpu=2,gpu=1"`` -> ``{"cpu": 2.0, "gpu": 1.0}``; default one CPU."""
    if not text:
        return {"cpu": 1.0}
    out: dict[str, float] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        try:
            amount = float(value)
        except ValueError:
            amount = -1.0
        if not sep or not key or amount < 0 or not math.isfinite(amount):
            raise ConfigError(
                "resources look like cpu=2,gpu=1 (non-negative amounts)",
                key="--trial-resources",
                got=text,
            )
        out[key] = amount
    return out


def _one_of(value: str, allowed: tuple[str, ...], key: str) -> None:
    if value not in allowed:
        raise ConfigError(f"expected one of: {', '.join(allowed)}", key=key, got=value)


def check_session(
    jobs: int, backend: str, timeout: float | None, trial_resources: str | None
) -> dict[str, float]:
    """The options of one session (new or resumed); returns the Ray resources per trial."""
    _one_of(backend, BACKENDS, "--backend")
    if jobs < 1:
        raise ConfigError("needs at least 1", key="--jobs", got=jobs)
    if backend == "ray" and jobs != 1:
        raise ConfigError(
            "--jobs is for the local backend; Ray runs as many trials as the cluster's "
            "resources allow (see --trial-resources)",
            key="--jobs",
            got=jobs,
        )
    if timeout is not None and timeout <= 0:
        raise ConfigError("needs a positive number of seconds", key="--timeout", got=timeout)
    resources = parse_resources(trial_resources)
    if backend == "ray" and importlib.util.find_spec("ray") is None:
        raise ConfigError(f"the ray backend needs Ray: {RAY_INSTALL}", key="--backend", got="ray")
    return resources


def check_search(space: Space, sampler: str, pruner: str | None, trials: int | None) -> int:
    """The sampler, pruner and trial count of a study; returns the trial count (the grid
    sampler: at most the grid's size, all of it by default)."""
    _one_of(sampler, SAMPLERS, "--sampler")
    if pruner is not None:
        _one_of(pruner, PRUNERS, "--pruner")
    if sampler == "grid":
        bad = next((p for p in space.params if p.kind != "categorical"), None)
        if bad is not None:
            raise ConfigError(
                "the grid sampler needs categorical choices for every key",
                key=bad.key,
                got=bad.kind,
                file=space.file,
            )
        size = space.grid_size()
        trials = size if trials is None else min(trials, size)
    if trials is None:
        raise ConfigError("how many trials? (--trials N)", key="--trials")
    if trials < 1:
        raise ConfigError("needs at least 1", key="--trials", got=trials)
    return trials
