"""``quotient_remainder``: two small tables whose row pairs give every id its own vector.

Shi et al. 2019 (arXiv 1909.02107). Id ``i`` reads row ``i // num_buckets`` of the
quotient table and row ``i % num_buckets`` of the remainder table and combines them.
Two ids share both rows only if they are equal, so no two ids get the same vector as
long as the quotient table has a row for every quotient, ``ceil(vocab / num_buckets)``.

``sizing: keras_io`` (the default) gives the quotient table ``num_buckets`` rows, as the
keras-io example (seed 002) does: 6,040 users, 120 buckets, 2 x 120 x 64 = 15,360
parameters. ``sizing: compact`` gives it only the ``ceil(vocab / num_buckets)`` rows that
are ever read (51 x 64 + 120 x 64 = 10,944 for the same table).

``order: frequency`` splits each id's training-frequency rank (most rated first) instead
of the id itself: the quotient row becomes a popularity tier and a remainder row is
shared by one id of each tier, never by two frequent ids. ``quotient_initializer`` sets
the quotient table apart (``ones`` with ``multiply`` starts every id at its remainder row).
Both default to the keras-io behaviour (id order, one initializer for both tables).
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from pydantic import Field, NonNegativeFloat, PositiveInt, model_validator

from recexp.embeddings.base import EMBEDDINGS, EmbeddingOptions, TableRequest
from recexp.embeddings.frequency import popularity_order
from recexp.errors import ConfigError
from recexp.schema import Initializer


class QuotientRemainderOptions(EmbeddingOptions):
    """A quotient table and a remainder table instead of one row per id."""

    strategy: Literal["quotient_remainder"] = "quotient_remainder"
    num_buckets: PositiveInt | None = Field(
        None, description="rows of the remainder table; default: ceil(sqrt(vocab))"
    )
    compression: float | None = Field(
        None, ge=1, description="alternative to num_buckets: num_buckets = vocab // compression"
    )
    combiner: Literal["multiply", "add", "concat"] = Field(
        "multiply", description="how the two rows combine; concat uses dim/2 columns per table"
    )
    sizing: Literal["keras_io", "compact"] = Field(
        "keras_io",
        description="keras_io: num_buckets quotient rows (seed 002); "
        "compact: ceil(vocab / num_buckets)",
    )
    order: Literal["id", "frequency"] = Field(
        "id",
        description="split ids as they are, or by training-frequency rank (most rated first), "
        "so frequent ids share remainder rows only with rarer ones",
    )
    initializer: Initializer = Field("uniform", description="any Keras initializer name")
    quotient_initializer: Initializer | None = Field(
        None, description="initializer of the quotient table; default: initializer"
    )
    l2: NonNegativeFloat = Field(0.0, description="L2 penalty on the rows")

    @model_validator(mode="after")
    def _check(self) -> QuotientRemainderOptions:
        if self.num_buckets is not None and self.compression is not None:
            raise ValueError(
                "give num_buckets or compression, not both "
                f"(got num_buckets={self.num_buckets}, compression={self.compression})"
            )
        if self.combiner == "concat" and self.dim is not None and self.dim % 2:
            raise ValueError(f"combiner concat needs an even dim (got dim={self.dim})")
        return self


def resolve_buckets(options: QuotientRemainderOptions, request: TableRequest) -> tuple[int, int]:
    """``(num_buckets, quotient_rows)`` for ``request``'s vocabulary, or a ConfigError."""
    vocab = request.vocab
    key = f"embedding.{request.table}"
    if options.num_buckets is not None:
        buckets, field = options.num_buckets, "num_buckets"
    elif options.compression is not None:
        buckets, field = int(vocab // options.compression), "compression"
        if buckets < 1:
            raise ConfigError(
                f"compression leaves no bucket for a vocabulary of {vocab} ids",
                key=f"{key}.compression",
                got=options.compression,
            )
    else:
        buckets, field = math.isqrt(vocab - 1) + 1, "num_buckets"  # ceil(sqrt(vocab))
    if buckets > vocab:
        raise ConfigError(
            f"more buckets than the {vocab} ids of the {request.table} vocabulary",
            key=f"{key}.{field}",
            got=buckets,
        )
    needed = -(-vocab // buckets)
    quotient_rows = buckets if options.sizing == "keras_io" else needed
    if quotient_rows < needed:
        raise ConfigError(
            f"{buckets} buckets give {vocab} ids {needed} quotients but sizing keras_io keeps "
            f"{buckets} quotient rows, so ids would share vectors; use num_buckets >= "
            f"{math.isqrt(vocab - 1) + 1} or sizing: compact",
            key=f"{key}.{field}",
            got=getattr(options, field),
        )
    return buckets, quotient_rows


@EMBEDDINGS.register(
    "quotient_remainder",
    options=QuotientRemainderOptions,
    help="quotient and remainder tables combined (Shi et al. 2019)",
)
def build_quotient_remainder(options: QuotientRemainderOptions, request: TableRequest) -> Any:
    import keras

    from recexp.embeddings.layers.quotient_remainder import QuotientRemainderEmbedding

    dim = request.with_dim(options)
    if options.combiner == "concat" and dim % 2:
        raise ConfigError(
            f"combiner concat needs an even dim; the model asks for {dim}",
            key=f"embedding.{request.table}.combiner",
            got=options.combiner,
        )
    buckets, quotient_rows = resolve_buckets(options, request)
    ranks = None
    if options.order == "frequency":
        ranks = np.empty(request.vocab, dtype=np.int64)
        ranks[popularity_order(request.counts, request.vocab)] = np.arange(request.vocab)
    return QuotientRemainderEmbedding(
        vocabulary_size=request.vocab,
        output_dim=dim,
        num_buckets=buckets,
        quotient_rows=quotient_rows,
        combiner=options.combiner,
        embeddings_initializer=options.initializer,
        quotient_initializer=options.quotient_initializer,
        id_ranks=None if ranks is None else ranks.tolist(),
        embeddings_regularizer=keras.regularizers.L2(options.l2) if options.l2 else None,
        name=request.name,
    )
