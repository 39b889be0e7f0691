"""A run's name from its spec's and its ``--set`` overrides, so runs that differ by an
override can be told apart: ``recexp train configs/mf.yaml --set model.dim=64`` makes
``<stamp>-mf-dim64``. Each override adds its key's last part and its value, in a
filesystem-safe form; the name stays within :data:`MAX_NAME` characters (a long tail is
cut and ended with a short hash of the whole, so names stay distinct). An override of
``name`` itself, and ``tracking`` ones (where a run is logged, not what it is), add
nothing.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import yaml

MAX_NAME = 64
SHORT = {"learning_rate": "lr", "batch_size": "bs", "max_epochs": "epochs"}
UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
STAMP = re.compile(r"^\d{8}T\d{6}Z-")  # RunDir.create's UTC timestamp


def without_stamp(name: str) -> str:
    """``20261203T101010Z-mf-dim64`` -> ``mf-dim64`` (what plots and tables label runs by)."""
    return STAMP.sub("", name)


def _compact(value: Any) -> str:
    if isinstance(value, dict):
        return "-".join(_compact(v) for v in value.values())
    if isinstance(value, list):
        return "x".join(_compact(v) for v in value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def override_token(item: str) -> str | None:
    """``model.dim=64`` -> ``dim64``; ``training.distribute.strategy=mirrored`` ->
    ``strategy-mirrored``; ``embedding={strategy: hashing}`` -> ``embedding-hashing``;
    None for one that names no part of the model or data."""
    key, _, raw = item.partition("=")
    if key == "name" or key.startswith("tracking"):
        return None
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    last = key.rsplit(".", 1)[-1]
    last = SHORT.get(last, last)
    glued = isinstance(value, int | float | list)  # dim64, lr0.002, layers64x32
    text = f"{last}{_compact(value)}" if glued else f"{last}-{_compact(value)}"
    return UNSAFE.sub("_", text).strip("_.-") or None


def name_with_overrides(name: str, overrides: list[str]) -> str:
    """``name`` plus a token per override (see the module's docstring)."""
    if any(item.partition("=")[0] == "name" for item in overrides):
        return name
    tokens = [t for t in map(override_token, overrides) if t]
    if not tokens:
        return name
    full = "-".join([name, *tokens])
    if len(full) <= MAX_NAME:
        return full
    digest = hashlib.sha1(full.encode()).hexdigest()[:6]
    return f"{full[: MAX_NAME - 7].rstrip('_.-')}-{digest}"
