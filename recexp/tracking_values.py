"""A spec and a metrics.json as what a tracker logs: dotted keys (``model.dim``),
param text within MLflow's length limit, finite numbers only."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

PARAM_VALUE_MAX = 500  # MLflow 2.0's limit (later versions allow 6000)


def flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as one dict with dotted keys (``model.dim``); lists stay values."""
    if isinstance(node, Mapping):
        out: dict[str, Any] = {}
        for key, value in node.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: node}


def without(node: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """``node`` without the dotted ``keys`` (a key drops everything under it too)."""
    keys = tuple(keys)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in keys:
            continue
        inner = tuple(k[len(key) + 1 :] for k in keys if k.startswith(f"{key}."))
        out[key] = without(value, inner) if inner and isinstance(value, Mapping) else value
    return out


def param_value(value: Any) -> str:
    """A spec value as MLflow param text (YAML-like: true, null, [1, 2])."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= PARAM_VALUE_MAX else text[: PARAM_VALUE_MAX - 3] + "..."


def metric_key(name: str) -> str:
    """A metric name as MLflow accepts it: ``ndcg@10`` -> ``ndcg_at_10`` (no ``@``)."""
    return name.replace("@", "_at_")


def numeric_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    """The finite numbers of metrics.json under dotted keys (``test.rmse``,
    ``baselines.biases_test_rmse``, ``test.ranking.ndcg_at_10``); booleans as 0/1."""
    out = {}
    for key, value in flatten(metrics).items():
        if isinstance(value, bool) or isinstance(value, (int, float)) and math.isfinite(value):
            out[metric_key(key)] = float(value)
    return out
