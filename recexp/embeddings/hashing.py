"""``hashing``: ids hashed into ``num_bins`` shared rows (the hashing trick).

Weinberger et al. 2009. Id ``i`` reads row ``((a * i + b) mod P) mod num_bins`` with
``P = 2**31 - 1`` and ``a``, ``b`` drawn from ``salt`` (a Carter-Wegman universal hash):
integer arithmetic that numpy and Keras compute alike, so collisions are counted here,
at build time, without Keras. Ids that share a bin share a vector; :func:`collisions`
counts them and the memory report (``recexp.embeddings.report``) records the count.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveInt

from recexp.embeddings.base import EMBEDDINGS, EmbeddingOptions, TableRequest
from recexp.schema import Initializer

PRIME = 2**31 - 1  # ids are int32, so a * id + b < 2**62 fits int64
_MASK64 = 2**64 - 1


def _splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def hash_coefficients(salt: int) -> tuple[int, int]:
    """``(a, b)`` of the hash for ``salt``: ``1 <= a < P``, ``0 <= b < P``."""
    a = 1 + _splitmix64(2 * salt) % (PRIME - 1)
    b = _splitmix64(2 * salt + 1) % PRIME
    return a, b


def hash_ids(ids: np.ndarray, num_bins: int, salt: int = 0) -> np.ndarray:
    """The bin of each id, exactly as :class:`HashedEmbedding` computes it."""
    a, b = hash_coefficients(salt)
    return ((np.asarray(ids, dtype=np.int64) * a + b) % PRIME) % num_bins


def collisions(vocab: int, num_bins: int, salt: int = 0) -> dict[str, int]:
    """How the ids ``0..vocab-1`` fall into bins.

    ``colliding_ids`` counts ids that share their bin with at least one other id;
    ``bins_used`` counts bins holding any id, so ``vocab - bins_used`` ids lose a row
    of their own.
    """
    per_bin = np.bincount(hash_ids(np.arange(vocab), num_bins, salt), minlength=num_bins)
    return {
        "colliding_ids": int(per_bin[per_bin > 1].sum()),
        "bins_used": int((per_bin > 0).sum()),
    }


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
