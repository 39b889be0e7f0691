"""The embedding-strategy registry and what a model family asks it for.

A model family never builds ``keras.layers.Embedding`` itself: it describes the table
it needs with a :class:`TableRequest` and the strategy chosen in the spec builds the
layer. Every strategy's layer maps integer ids of shape ``(batch, ...)`` to vectors of
shape ``(batch, ..., dim)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import Field, PositiveInt

from recexp.registry import Registry
from recexp.schema import Options

#: name -> builder ``fn(options, request) -> keras.layers.Layer``.
EMBEDDINGS: Registry[Callable[..., Any]] = Registry(
    "embedding strategy", plugins="recexp.embeddings"
)


class EmbeddingOptions(Options):
    """Options every strategy shares; each registry entry subclasses this with its own."""

    strategy: str
    dim: PositiveInt | None = Field(
        None, description="vector size; default: the size the model family asks for"
    )


@dataclass(frozen=True)
class TableRequest:
    """One embedding table a model family needs."""

    name: str  # Keras layer name, e.g. "mlp_user_embedding"
    table: Literal["user", "item"]
    vocab: int  # number of ids (codes 0..vocab-1)
    dim: int  # the family's requested vector size
    counts: np.ndarray | None = None  # training ratings per id, for frequency-aware strategies
    seed: int | None = None

    def with_dim(self, options: EmbeddingOptions) -> int:
        return options.dim or self.dim
