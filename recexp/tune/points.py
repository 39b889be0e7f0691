"""Points of a search space as specs: each trial's config, and the check of every point
against the spec schema before the first trial runs (one bad value: one line, nothing
written).
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

from recexp.config import ExperimentConfig, load_spec, validate
from recexp.errors import ConfigError
from recexp.spec_yaml import apply_override, parse_yaml
from recexp.tune.space import Space

#: every combination of the space's representative points is validated up to this many
MAX_COMBINATIONS = 512


def as_overrides(values: dict[str, Any]) -> list[str]:
    """``{"model.l2": 0.05}`` -> ``["model.l2=0.05"]`` (JSON is YAML, so types survive)."""
    return [f"{key}={json.dumps(value)}" for key, value in values.items()]


def has_validation(config: ExperimentConfig) -> bool:
    """Whether the spec's split keeps a validation part to select on."""
    split = config.dataset.split
    return bool(getattr(split, "validation_split", None) or getattr(split, "val", 0))


def raw_spec(spec: str | Path, overrides: list[str] | None = None) -> dict[str, Any]:
    """The spec as written, with ``overrides`` applied, not validated: what each trial's
    values apply to (applying them to the resolved spec would differ, e.g. a one-block
    ``embedding.strategy`` under resolved per-table blocks)."""
    load_spec(spec, overrides)  # a missing or malformed file, or a bad --set: its one line
    data = parse_yaml(Path(spec).read_text(encoding="utf-8"), str(spec))
    for item in overrides or []:
        apply_override(data, item)
    return data


def trial_config(raw: dict[str, Any], values: dict[str, Any]) -> ExperimentConfig:
    """``raw`` (see :func:`raw_spec`) with one point of the space applied, validated."""
    data = json.loads(json.dumps(raw))  # a deep copy
    for item in as_overrides(values):
        apply_override(data, item)
    return validate(data)


def check_base(base: ExperimentConfig, spec: str | Path) -> None:
    """A study selects on one validation part: the split must keep one, and no k folds."""
    if not has_validation(base):
        raise ConfigError(
            "a study selects on validation RMSE but the split has no validation part; "
            "set dataset.split.val or dataset.split.validation_split",
            key="dataset.split",
            file=str(spec),
        )
    folds = getattr(base.dataset.split, "folds", None)
    if folds:
        raise ConfigError(
            "a study selects on one validation part; k folds are not supported in a study",
            key="dataset.split.folds",
            got=folds,
            file=str(spec),
        )


def check_space(
    spec: str | Path, space: Space, overrides: list[str] | None = None, every: bool = False
) -> tuple[ExperimentConfig, dict[str, Any]]:
    """The base config and raw spec, once every point of ``space`` validated against the
    spec schema.

    Numeric keys are checked at both bounds, categorical keys at every choice, each with
    the others at the spec's values; when the representative points (bounds and choices)
    make at most :data:`MAX_COMBINATIONS` combinations, or ``every`` is set (a grid, all
    of which will run), every combination is checked too (keys that only work together,
    e.g. a strategy and its options). A bad point is the first error, attributed to the
    space file.
    """
    raw = raw_spec(spec, overrides)
    base = load_spec(spec, overrides)
    check_base(base, spec)

    def check(point: dict[str, Any]) -> None:
        try:
            trial_config(raw, point)
        except ConfigError as error:
            raise (error.with_file(space.file) if space.file else error) from None

    for param in space.params:
        for value in param.points():
            check({param.key: value})
    points = [param.points() for param in space.params]
    if every or math.prod(len(p) for p in points) <= MAX_COMBINATIONS:
        for combo in itertools.product(*points):
            check(dict(zip(space.keys, combo, strict=True)))
    return base, raw
