"""``recexp sweep``: a grid of overrides, each combination a trial. A sweep is a study
(:mod:`recexp.tune.study`) with the grid sampler and no pruner: every combination runs,
in order (the last key varying fastest), as a child run in ``<sweep>/trials/``; the one
with the lowest validation RMSE is selected, and study.json records them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from recexp.errors import ConfigError
from recexp.runs import RunDir
from recexp.spec_yaml import load_yaml
from recexp.tune.space import Space


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


def grid_space(grid: dict[str, list[Any]]) -> Space:
    """A grid (``{"model.l2": [0.03, 0.05]}``) as a space of categorical keys."""
    if not grid:
        raise ConfigError("a sweep needs at least one --grid key", key="--grid")
    return Space.from_dict(
        {k: {"kind": "categorical", "choices": list(v)} for k, v in grid.items()}
    )


def run_sweep(
    spec: str | Path,
    grid: dict[str, list[Any]],
    overrides: list[str] | None = None,
    runs_root: str | Path = "runs",
    quiet: bool = False,
    metric: str = "val_rmse",
) -> RunDir:
    """Every combination of ``grid`` on ``spec``: ``<runs_root>/<stamp>-<name>-sweep``,
    selected on ``metric``."""
    from recexp.tune.study import run_tune

    return run_tune(
        spec,
        grid_space(grid),
        sampler="grid",
        pruner="none",
        overrides=overrides,
        runs_root=runs_root,
        quiet=quiet,
        kind="sweep",
        metric=metric,
    )
