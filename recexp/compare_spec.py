"""What ``recexp compare`` reads from each run's resolved spec (config.yaml): the split,
in words, and the spec keys whose values differ between the runs shown (each becomes
a column, so two runs that differ only by ``--set model.dim=64`` can be told apart).

A study is read through its selected trial's config.yaml (the values it chose).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from recexp.compare_columns import DIFF_PARTIAL_PRIORITY, DIFF_PRIORITY
from recexp.runs import CONFIG

# shown by other columns already (model, dataset, split, optimizer, run)
COVERED = (
    "name", "model.family", "dataset.name", "dataset.split.", "optimizer.name",
    "optimizer.learning_rate", "embedding.user.strategy", "embedding.item.strategy",
)  # fmt: skip


def _config(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load((path / CONFIG).read_text())
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"model": {"dim": 32}}`` -> ``{"model.dim": 32}`` (lists stay values)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out |= flatten(value, f"{dotted}.")
        else:
            out[dotted] = value
    return out


def split_text(split: Any) -> str | None:
    """``{strategy: random, val: 0.1, test: 0.1}`` -> ``random, test 0.1, val 0.1``."""
    if not isinstance(split, dict) or "strategy" not in split:
        return None
    parts = [str(split["strategy"])]
    if split.get("folds"):
        parts.append(f"fold {split.get('fold', 0)} of {split['folds']}")
    elif split.get("fold") is not None and split["strategy"] == "predefined":
        parts.append(str(split["fold"]))
    for key in ("test_k", "test", "val_k", "val", "validation_split"):
        value = split.get(key)
        if value not in (None, 0, 0.0) and not (key in ("test", "val") and split.get(f"{key}_k")):
            parts.append(f"{key.replace('validation_split', 'val of train')} {value}")
    return ", ".join(parts)


def spec_fields(path: Path, child: str | None) -> dict[str, Any]:
    """``split`` and ``spec`` (every resolved key, dotted) of one run."""
    config = _config(Path(child)) if child else {}
    config = config or _config(path)
    split = (config.get("dataset") or {}).get("split") if config else None
    spec = {k: v for k, v in flatten(config).items() if not k.startswith(COVERED)}
    return {"split": split_text(split), "spec": spec}


def diff_keys(rows: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """The spec keys whose values differ across ``rows`` (a key missing from a run counts
    as a value), with their priority: keys every run has first."""
    if len(rows) < 2:
        return []
    specs = [r.get("spec") or {} for r in rows]
    keys = list(dict.fromkeys(k for spec in specs for k in spec))
    out = []
    for key in keys:
        values = {json.dumps(spec.get(key, "<missing>"), sort_keys=True) for spec in specs}
        if len(values) > 1:
            everywhere = all(key in spec for spec in specs)
            out.append((key, DIFF_PRIORITY if everywhere else DIFF_PARTIAL_PRIORITY))
    return out


def add_spec_columns(rows: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    """Copy each differing spec key into the rows as a column; returns (key, title,
    priority) of each."""
    found = diff_keys(rows)
    for row in rows:
        spec = row.get("spec") or {}
        for key, _ in found:
            row[key] = spec.get(key)
    return [(key, key, priority) for key, priority in found]
