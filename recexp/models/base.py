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
from typing import Any, Literal

import numpy as np

from recexp.embeddings.base import EMBEDDINGS, EmbeddingOptions, TableRequest
from recexp.registry import Registry
from recexp.schema import Options

#: name -> builder ``fn(options, ctx) -> keras.Model``.
MODELS: Registry[Callable[..., Any]] = Registry("model family", plugins="recexp.models")


#: the description of every family's ``embedding_l2`` option
EMBEDDING_L2_HELP = (
    "per-rating L2 on the looked-up id vectors: l2 * sum of their squares / batch "
    "(keeps updates sparse; embedding.l2 is the whole-table penalty)"
)


#: the description of every family's ``embedding_l2_per`` option
EMBEDDING_L2_PER_HELP = (
    "rating: each looked-up vector penalised once per rating (as Surprise SVD); row: "
    "weighted by n / count so each row is penalised as whole-table L2 would in expectation "
    "(embedding_l2 then means embedding.l2's coefficient), updates still sparse"
)

#: how ``embedding_l2`` is spread over the rows: per rating, or per row as whole-table L2
L2Per = Literal["rating", "row"]


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

    def id_l2(self, table: str, vectors: Any, ids: Any, l2: float, per: str) -> Any:
        """``vectors`` (looked up for ``ids`` in the ``table`` table) flattened to
        ``(batch, dim)``, with the family's ``embedding_l2`` on them: per rating
        (:func:`~recexp.models.layers.rating_l2`) or per row (:class:`~recexp.models.layers.RowL2`).
        """
        from recexp.models.layers import RowL2, rating_l2

        if per == "rating" or not l2:
            return rating_l2(vectors, l2)
        counts = self.user_counts if table == "user" else self.item_counts
        vocab = self.n_users if table == "user" else self.n_items
        return RowL2(l2, vocab, np.ones(vocab) if counts is None else counts)([vectors, ids])

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
