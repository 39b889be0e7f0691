"""``full``: one trainable row per id, ``keras.layers.Embedding``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, NonNegativeFloat

from recexp.embeddings.base import EMBEDDINGS, EmbeddingOptions, TableRequest
from recexp.schema import Initializer


class FullOptions(EmbeddingOptions):
    """A full table: ``vocab x dim`` parameters."""

    strategy: Literal["full"] = "full"
    initializer: Initializer = Field(
        "uniform", description="any Keras initializer name, e.g. he_normal"
    )
    l2: NonNegativeFloat = Field(0.0, description="L2 penalty on the rows")


@EMBEDDINGS.register("full", options=FullOptions, help="one row per id (keras Embedding)")
def build_full(options: FullOptions, request: TableRequest) -> Any:
    import keras

    from recexp.embeddings.layers import FullEmbedding

    return FullEmbedding(
        request.vocab,
        request.with_dim(options),
        embeddings_initializer=options.initializer,
        embeddings_regularizer=keras.regularizers.L2(options.l2) if options.l2 else None,
        name=request.name,
    )
