"""``hashing``: ids hashed into ``num_bins`` shared rows (the hashing trick).

Weinberger et al. 2009. Id ``i`` reads row ``((a * i + b) mod P) mod num_bins`` with
``P = 2**31 - 1`` and ``a``, ``b`` drawn from ``salt`` (a Carter-Wegman universal hash).
Ids that share a bin share a vector; the layer
(:class:`recexp.embeddings.layers.hashing.HashedEmbedding`, where the hash lives) counts
them when it is made and the memory report (``recexp.embeddings.report``) records the count.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveInt

from recexp.embeddings.base import EMBEDDINGS, EmbeddingOptions, TableRequest
from recexp.schema import Initializer


class HashingOptions(EmbeddingOptions):
    """``num_bins`` rows shared by all ids through a salted hash."""

    strategy: Literal["hashing"] = "hashing"
    num_bins: PositiveInt | None = Field(
        None, description="rows of the table; default: half the vocabulary, rounded up"
    )
    salt: NonNegativeInt = Field(0, description="picks the hash function; change to reshuffle")
    initializer: Initializer = Field("uniform", description="any Keras initializer name")
    l2: NonNegativeFloat = Field(0.0, description="L2 penalty on the rows")


@EMBEDDINGS.register("hashing", options=HashingOptions, help="salted hash into num_bins rows")
def build_hashing(options: HashingOptions, request: TableRequest) -> Any:
    import keras

    from recexp.embeddings.layers.hashing import HashedEmbedding

    return HashedEmbedding(
        num_bins=options.num_bins or -(-request.vocab // 2),
        output_dim=request.with_dim(options),
        salt=options.salt,
        vocabulary_size=request.vocab,
        embeddings_initializer=options.initializer,
        embeddings_regularizer=keras.regularizers.L2(options.l2) if options.l2 else None,
        name=request.name,
    )
