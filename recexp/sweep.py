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
from recexp.errors import ConfigError
from recexp.runs import RunDir

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
            values = yaml.safe_load(text if text.startswith("[") else f"[{text}]")
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


def _score(metrics: dict[str, Any], part: str) -> float | None:
    value = (metrics.get(part) or {}).get("rmse")
    return value if isinstance(value, (int, float)) and math.isfinite(value) else None


def run_sweep(
    spec: str | Path,
    grid: dict[str, list[Any]],
    overrides: list[str] | None = None,
    runs_root: str | Path = "runs",
    quiet: bool = False,
) -> RunDir:
    """Run every trial of ``grid`` on ``spec``; the selected one is the lowest val RMSE."""
    from recexp.display import Display
    from recexp.errors import TrainingError
    from recexp.experiment import load_metrics, run_cross_validation, run_experiment

    base, trials = plan(spec, grid, overrides)
    parent = RunDir.create(runs_root, f"{base.name}-sweep")
    parent.write_text("config.yaml", yaml.safe_dump(base.resolved(), sort_keys=False))
    display = Display(quiet=quiet)
    record: dict[str, Any] = {
        "spec": str(spec),
        "overrides": list(overrides or []),
        "grid": grid,
        "monitor": MONITOR,
        "trials": [],
        "selected": None,
    }
    parent.set_status("running", trials=len(trials))
    parent.write_json("sweep.json", record)
    try:
        for i, (trial, config) in enumerate(trials):
            label = ", ".join(f"{k}={json.dumps(v)}" for k, v in trial.items())
            display.message(f"trial {i + 1}/{len(trials)}: {label}")
            child = config.model_copy(update={"name": f"{base.name}-{i:02d}"})
            entry: dict[str, Any] = {"index": i, "overrides": trial}
            try:
                if getattr(child.dataset.split, "folds", None):
                    run = run_cross_validation(child, parent.path / "trials", quiet=quiet)
                else:
                    run = run_experiment(child, parent.path / "trials", display=display)
                metrics = load_metrics(run)
                if metrics.get("interrupted"):  # Ctrl-C / SIGTERM stops the whole sweep
                    entry.update(path=str(run.path.relative_to(parent.path)), status="interrupted")
                    record["trials"].append(entry)
                    parent.write_json("sweep.json", record)
                    raise KeyboardInterrupt
                entry.update(
                    path=str(run.path.relative_to(parent.path)),
                    status="completed",
                    val_rmse=_score(metrics, "val"),
                    test_rmse=_score(metrics, "test"),
                )
            except TrainingError as error:  # a diverged trial: recorded, the sweep goes on
                entry.update(status="failed", error=str(error))
            record["trials"].append(entry)
            parent.write_json("sweep.json", record)
    except BaseException as error:
        state = "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"
        parent.set_status(
            state,
            error=str(error) or error.__class__.__name__,
            trials_completed=len(record["trials"]),
        )
        raise
    scored = [t for t in record["trials"] if t.get("val_rmse") is not None]
    if not scored:
        parent.set_status("failed", error="no trial produced a validation RMSE")
        raise TrainingError("sweep: no trial produced a validation RMSE")
    best = min(scored, key=lambda t: t["val_rmse"])
    record["selected"] = best["index"]
    parent.write_json("sweep.json", record)
    metrics = load_metrics(RunDir(parent.path / best["path"]))
    metrics.update(name=parent.path.name, sweep={"trials": len(trials), "selected": best})
    parent.write_json("metrics.json", metrics)
    parent.set_status("completed", trials=len(trials), selected=best["index"])
    label = ", ".join(f"{k}={json.dumps(v)}" for k, v in best["overrides"].items())
    display.message(
        f"selected on {MONITOR}: trial {best['index']} ({label}): val RMSE "
        f"{best['val_rmse']:.4f}, test RMSE {best['test_rmse']:.4f}  -> {parent.path}"
    )
    return parent
