"""Initializer helpers shared by the layers that hold more than one table."""

from __future__ import annotations

from typing import Any

import keras


def fresh_initializer(initializer: Any, offset: int) -> Any:
    """A new copy of ``initializer`` with its own seed.

    A Keras initializer instance draws the same values on every call, so the two tables
    need separate copies: equal tables would make ``q[a] * r[b] == q[b] * r[a]`` and give
    ids ``a * num_buckets + b`` and ``b * num_buckets + a`` the same vector.
    """
    config = keras.initializers.serialize(initializer)
    inner = config.get("config") if isinstance(config, dict) else None
    if isinstance(inner, dict) and inner.get("seed") is not None:
        inner["seed"] = int(inner["seed"]) + offset
    return keras.initializers.deserialize(config)
