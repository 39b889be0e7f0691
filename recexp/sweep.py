"""``recexp sweep``: a grid of overrides, one run each, the best chosen on validation RMSE.

A sweep directory holds the base spec (``config.yaml``), ``sweep.json`` (the grid, each
trial's overrides, status and scores, and the selected trial), ``status.json``, and each
trial as a complete run directory in ``trials/``. Its ``metrics.json`` is the selected
trial's, so ``recexp compare runs/*`` lists a sweep as one row: the setting picked on
validation, scored on test. Selection never looks at the test set.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

import yaml

from recexp.config import ExperimentConfig, load_spec
from recexp.errors import ConfigError, TrainingError
from recexp.parents import ParentRun
from recexp.run_metrics import Metrics
from recexp.runs import SWEEP_RECORD, RunDir
from recexp.spec_yaml import load_yaml

MONITOR = "val_rmse"


def parse_grid(items: list[str]) -> dict[str, list[Any]]:
    """``["model.l2=0.03,0.05", "model.dim=[16, 32]"]`` -> ``{"model.l2": [0.03, 0.05], ...}``.

    Values are YAML: a flow list (``[16, 32]``) or comma-separated scalars.
    """
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key or not raw.strip():
            raise ConfigError(
                "grid entries look like dotted.key=v1,v2 or dotted.key=[v1, v2]",
                key="--grid",
                got=item,
            )
        text = raw.strip()
        try:
            values = load_yaml(text if text.startswith("[") else f"[{text}]")
        except ConfigError as e:
            raise ConfigError(e.problem, key=f"--grid {key}", got=raw) from None
        except yaml.YAMLError:
            raise ConfigError("values are not valid YAML", key=f"--grid {key}", got=raw) from None
        if not isinstance(values, list) or not values:
            raise ConfigError("needs at least one value", key=f"--grid {key}", got=raw)
        if key in grid:
            raise ConfigError("key given twice", key=f"--grid {key}", got=raw)
        grid[key] = values
    return grid


def combinations(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, the last key varying fastest."""
    keys = list(grid)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*grid.values())]


def as_overrides(trial: dict[str, Any]) -> list[str]:
    """``{"model.l2": 0.05}`` -> ``["model.l2=0.05"]`` (JSON is YAML, so types survive)."""
    return [f"{key}={json.dumps(value)}" for key, value in trial.items()]


def has_validation(config: ExperimentConfig) -> bool:
    """Whether the spec's split keeps a validation part to select on."""
    split = config.dataset.split
    return bool(getattr(split, "validation_split", None) or getattr(split, "val", 0))


def plan(
    spec: str | Path, grid: dict[str, list[Any]], overrides: list[str] | None = None
) -> tuple[ExperimentConfig, list[tuple[dict[str, Any], ExperimentConfig]]]:
    """The base config and each trial's validated config; any bad one is a ConfigError.

    Everything is checked before anything runs, so a bad value in the last combination
    stops the sweep before the first trial, with nothing written.
    """
    base = load_spec(spec, overrides)
    if not grid:
        raise ConfigError("a sweep needs at least one --grid key", key="--grid", file=str(spec))
    if not has_validation(base):
        raise ConfigError(
            "a sweep selects on validation RMSE but the split has no validation part; "
            "set dataset.split.val or dataset.split.validation_split",
            key="dataset.split",
            file=str(spec),
        )
    trials = []
    for trial in combinations(grid):
        trials.append((trial, load_spec(spec, [*(overrides or []), *as_overrides(trial)])))
    return base, trials


def _score(metrics: Metrics, part: str) -> float | None:
    value = getattr(metrics, part).rmse
    return value if isinstance(value, (int, float)) and math.isfinite(value) else None


def run_sweep(
    spec: str | Path,
    grid: dict[str, list[Any]],
    overrides: list[str] | None = None,
    runs_root: str | Path = "runs",
    quiet: bool = False,
) -> RunDir:
    """Run every trial of ``grid`` on ``spec``; the selected one is the lowest val RMSE.
    On a multi-worker cluster only the chief keeps the sweep directory."""
    from recexp.training.distribute_options import runs_root_for

    base, trials = plan(spec, grid, overrides)
    with runs_root_for(base.training.distribute, runs_root) as root:
        return _sweep(spec, grid, overrides, base, trials, root, quiet)


def _sweep(
    spec: str | Path,
    grid: dict[str, list[Any]],
    overrides: list[str] | None,
    base: Any,
    trials: Any,
    runs_root: Path,
    quiet: bool,
) -> RunDir:
    record: dict[str, Any] = {
        "spec": str(spec),
        "overrides": list(overrides or []),
        "grid": grid,
        "monitor": MONITOR,
        "trials": [],
        "selected": None,
    }
    name = f"{base.name}-sweep"
    with ParentRun.create(base, "trials", runs_root, quiet, name, trials=len(trials)) as parent:
        parent.run.write_json(SWEEP_RECORD, record)
        for i, (trial, config) in enumerate(trials):
            label = ", ".join(f"{k}={json.dumps(v)}" for k, v in trial.items())
            parent.display.message(f"trial {i + 1}/{len(trials)}: {label}")
            child = config.model_copy(update={"name": f"{base.name}-{i:02d}"})
            record["trials"].append(_run_trial(parent, i, trial, child))
            parent.run.write_json(SWEEP_RECORD, record)
        best = _select(record)
        parent.run.write_json(SWEEP_RECORD, record)
        metrics = RunDir(parent.path / best["path"]).metrics()
        metrics.name = parent.path.name
        metrics.sweep = {"trials": len(trials), "selected": best}  # type: ignore[attr-defined]
        parent.complete(metrics, trials=len(trials), selected=best["index"])
    label = ", ".join(f"{k}={json.dumps(v)}" for k, v in best["overrides"].items())
    parent.display.message(
        f"selected on {MONITOR}: trial {best['index']} ({label}): val RMSE "
        f"{best['val_rmse']:.4f}, test RMSE {best['test_rmse']:.4f}  -> {parent.path}"
    )
    return parent.run


def _run_trial(
    parent: ParentRun, index: int, trial: dict[str, Any], config: ExperimentConfig
) -> dict[str, Any]:
    """One trial's entry in sweep.json; a diverged trial is recorded and the sweep goes on."""
    entry: dict[str, Any] = {"index": index, "overrides": trial}
    try:
        run = parent.run_child(config)
    except TrainingError as error:
        return {**entry, "status": "failed", "error": str(error)}
    except KeyboardInterrupt:  # Ctrl-C / SIGTERM stops the whole sweep
        entry["status"] = "interrupted"
        parent.run.write_json(SWEEP_RECORD, _with_trial(parent, entry))
        raise
    metrics = run.metrics()
    return {
        **entry,
        "path": str(run.path.relative_to(parent.path)),
        "status": "completed",
        "val_rmse": _score(metrics, "val"),
        "test_rmse": _score(metrics, "test"),
    }


def _with_trial(parent: ParentRun, entry: dict[str, Any]) -> dict[str, Any]:
    record = parent.run.read_json(SWEEP_RECORD)
    record["trials"].append(entry)
    return record


def _select(record: dict[str, Any]) -> dict[str, Any]:
    """The trial with the lowest validation RMSE (test RMSE is never looked at)."""
    scored = [t for t in record["trials"] if t.get("val_rmse") is not None]
    if not scored:
        raise TrainingError("sweep: no trial produced a validation RMSE")
    best = min(scored, key=lambda t: t["val_rmse"])
    record["selected"] = best["index"]
    return best
