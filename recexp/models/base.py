"""The model-family registry and the context a family is built in.

A family is a pydantic options class plus a builder::

    @MODELS.register("mf", options=MFOptions)
    def build_mf(options: MFOptions, ctx: BuildContext) -> keras.Model

Builders import Keras inside the function, so importing this package stays cheap.
Every model takes a dict of inputs: ``user_input`` and ``item_input`` (int32,
shape ``(batch, 1)``) plus any feature inputs the family declares, and predicts
ratings in training units (see :class:`recexp.data.pipeline.RatingTransform`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from recexp.embeddings.base import EMBEDDINGS, EmbeddingOptions, TableRequest
from recexp.registry import Registry
from recexp.schema import Options

#: name -> builder ``fn(options, ctx) -> keras.Model``.
MODELS: Registry[Callable[..., Any]] = Registry("model family")


#: the description of every family's ``embedding_l2`` option
EMBEDDING_L2_HELP = (
    "per-rating L2 on the looked-up id vectors: l2 * sum of their squares / batch "
    "(keeps updates sparse; embedding.l2 is the whole-table penalty)"
)


class ModelOptions(Options):
    """Options every family shares; each registry entry subclasses this with its own."""

    family: str

    def unsupported(self, config: Any) -> tuple[str, str, Any] | None:
        """A setting of the whole spec (``config``) this family cannot honour, refused at
        validation as one line: ``(dotted key, problem, value)``; None when all is well."""
        return None


@dataclass
class BuildContext:
    """What a model family may know about the data when it builds its layers."""

    n_users: int
    n_items: int
    global_mean: float  # in training units
    rating_min: float  # in training units
    rating_max: float
    user_embedding: EmbeddingOptions
    item_embedding: EmbeddingOptions
    user_counts: np.ndarray | None = None
    item_counts: np.ndarray | None = None
    seed: int | None = None
    features: dict[str, Any] = field(default_factory=dict)

    def embedding(self, table: str, name: str, dim: int) -> Any:
        """A Keras layer for the ``table`` ("user" or "item") table, built by its strategy."""
        options = self.user_embedding if table == "user" else self.item_embedding
        request = TableRequest(
            name=name,
            table="user" if table == "user" else "item",
            vocab=self.n_users if table == "user" else self.n_items,
            dim=dim,
            counts=self.user_counts if table == "user" else self.item_counts,
            seed=self.seed,
        )
        return EMBEDDINGS.get(options.strategy).fn(options, request)

    def bias(self, table: str, name: str, l2: float = 0.0) -> Any:
        """A per-id scalar bias (always one row per id: biases are too small to compress)."""
        import keras

        from recexp.embeddings.layers import FullEmbedding

        return FullEmbedding(
            self.n_users if table == "user" else self.n_items,
            1,
            embeddings_initializer="zeros",
            embeddings_regularizer=keras.regularizers.L2(l2) if l2 else None,
            name=name,
        )


def id_inputs() -> tuple[Any, Any]:
    """The two id inputs every family takes, named as in the seeds."""
    import keras

    user = keras.Input(shape=(1,), dtype="int32", name="user_input")
    item = keras.Input(shape=(1,), dtype="int32", name="item_input")
    return user, item
