"""``mixed_dim``: popular ids get wide rows, rare ids narrow rows projected up.

Ginart et al. 2019 (arXiv 1909.11810). Ids are sorted by their training frequency
(``TableRequest.counts``, most rated first, ties by id) and cut into blocks; block ``k``
stores ``dims[k]`` columns per id and, when that is less than the base ``dim``, a
``dims[k] x dim`` projection. Ids never rated in training go to the last block.

Blocks are either explicit (``blocks: [400, 1300]`` = sizes of all blocks but the last,
which takes the rest; ``dims: [64, 32, 16]``), as seed 002, or follow the alpha-power
rule: ``num_blocks`` blocks that each hold about the same share of the training
ratings, block ``k`` of ``n_k`` ids getting ``max(1, round(dim * (n_0 / n_k) ** alpha))``
columns. Within a block every id holds a whole row, so every id keeps its own vector.

``qr_compression`` (one value per block, 1 = plain rows) puts quotient-remainder and
mixed-dim together in one table: block ``k`` with ``c > 1`` stores its ``n_k`` rows as the
products of ``ceil(n_k / b)`` quotient and ``b = n_k // c`` remainder rows (Shi et al.
2019), laid out by popularity, so each remainder row is shared by ids of different
popularity and every id still gets its own vector. Popular ids keep full rows; the rare
ones pay for the sharing.  On MovieLens 100K, ``blocks: [100]`` (users) / ``[150]``
(items), ``dims: [32, 8]``, ``qr_compression: [1, 4]`` gives mf 5.4x fewer embedding
parameters within 0.5% of the full tables' test RMSE (``benchmarks/results/embeddings.md``).

``sizing: keras_io`` (the default) sizes it as the keras-io example (seed 002): one
spare row per block (its out-of-block lookup) and projections with a bias, giving
3,706 movies in blocks 400 / 1,300 / 2,006 with dims 64 / 32 / 16 exactly 102,608
parameters. ``sizing: compact`` drops both (102,368 parameters).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any, Literal

import numpy as np
from pydantic import (
    AliasChoices,
    Field,
    NonNegativeFloat,
    PositiveInt,
    field_validator,
    model_validator,
)

from recexp.embeddings.base import EMBEDDINGS, EmbeddingOptions, TableRequest
from recexp.embeddings.frequency import popularity_order
from recexp.errors import ConfigError
from recexp.schema import Initializer

DEFAULT_ALPHA = 0.5
DEFAULT_NUM_BLOCKS = 3


class MixedDimOptions(EmbeddingOptions):
    """Blocks of ids by popularity, each with its own row width."""

    strategy: Literal["mixed_dim"] = "mixed_dim"
    dim: PositiveInt | None = Field(
        None,
        validation_alias=AliasChoices("dim", "base_dim"),
        description="base dim (alias base_dim): the output size; default: the model's",
    )
    blocks: list[PositiveInt] | None = Field(
        None, min_length=1, description="sizes of all blocks but the last, most popular first"
    )
    dims: list[PositiveInt] | None = Field(
        None, min_length=2, description="row width of each block, decreasing (with blocks)"
    )
    alpha: float | None = Field(
        None, description=f"alpha-power rule exponent (default {DEFAULT_ALPHA} without blocks)"
    )
    num_blocks: int | None = Field(
        None, description=f"blocks for the alpha rule (default {DEFAULT_NUM_BLOCKS})"
    )
    sizing: Literal["keras_io", "compact"] = Field(
        "keras_io",
        description="keras_io: a spare row per block and biased projections (seed 002); "
        "compact: neither",
    )
    qr_compression: list[float] | None = Field(
        None,
        min_length=1,
        description="per block, 1 = plain rows, c > 1 = the block's rows stored with the "
        "quotient-remainder trick in about n/c remainder rows (QR and MD together)",
    )
    initializer: Initializer = Field("uniform", description="any Keras initializer name")
    l2: NonNegativeFloat = Field(0.0, description="L2 penalty on the rows")

    @model_validator(mode="before")
    @classmethod
    def _alpha_by_default(cls, data: Any) -> Any:
        """Without explicit blocks, the alpha rule's defaults are filled in."""
        if isinstance(data, dict) and data.get("blocks") is None and data.get("dims") is None:
            data = dict(data)
            if data.get("alpha") is None:
                data["alpha"] = DEFAULT_ALPHA
            if data.get("num_blocks") is None:
                data["num_blocks"] = DEFAULT_NUM_BLOCKS
        return data

    @field_validator("dims")
    @classmethod
    def _decreasing(cls, dims: list[int] | None) -> list[int] | None:
        if dims is not None and any(b >= a for a, b in pairwise(dims)):
            raise ValueError("dims must decrease from each block to the next")
        return dims

    @field_validator("qr_compression")
    @classmethod
    def _compression_at_least_one(cls, values: list[float] | None) -> list[float] | None:
        if values is not None and any(c < 1 for c in values):
            raise ValueError("each qr_compression must be >= 1 (1 = plain rows)")
        return values

    @field_validator("alpha")
    @classmethod
    def _alpha_not_negative(cls, alpha: float | None) -> float | None:
        if alpha is not None and alpha < 0:
            raise ValueError("alpha must be >= 0")
        return alpha

    @field_validator("num_blocks")
    @classmethod
    def _at_least_one_block(cls, num_blocks: int | None) -> int | None:
        if num_blocks is not None and num_blocks < 1:
            raise ValueError("num_blocks must be >= 1")
        return num_blocks

    @model_validator(mode="after")
    def _one_rule(self) -> MixedDimOptions:
        explicit = self.blocks is not None or self.dims is not None
        if explicit and (self.alpha is not None or self.num_blocks is not None):
            raise ValueError(
                "give blocks with dims, or alpha with num_blocks, not both "
                f"(got blocks={self.blocks}, dims={self.dims}, alpha={self.alpha}, "
                f"num_blocks={self.num_blocks})"
            )
        if explicit and (self.blocks is None or self.dims is None):
            raise ValueError(
                f"blocks and dims go together (got blocks={self.blocks}, dims={self.dims})"
            )
        if self.blocks is not None and self.dims is not None:
            if len(self.dims) != len(self.blocks) + 1:
                raise ValueError(
                    f"dims needs one entry per block: {len(self.blocks)} blocks and the rest "
                    f"make {len(self.blocks) + 1} (got dims={self.dims})"
                )
            if self.qr_compression is not None and len(self.qr_compression) != len(self.dims):
                raise ValueError(
                    f"qr_compression needs one entry per block ({len(self.dims)}) "
                    f"(got qr_compression={self.qr_compression})"
                )
            if self.dim is not None and self.dims[0] > self.dim:
                raise ValueError(
                    f"dims may not exceed the base dim {self.dim} (got dims={self.dims})"
                )
        if (
            self.num_blocks is not None
            and self.qr_compression is not None
            and len(self.qr_compression) != self.num_blocks
        ):
            raise ValueError(
                f"qr_compression needs one entry per block ({self.num_blocks}) "
                f"(got qr_compression={self.qr_compression})"
            )
        return self


def equal_mass_sizes(counts: np.ndarray | None, vocab: int, num_blocks: int) -> list[int]:
    """Sizes of ``num_blocks`` popularity blocks holding about equal shares of the ratings.

    Every block gets at least one id. Without counts every id weighs the same.
    """
    weights = np.ones(vocab) if counts is None else np.asarray(counts, dtype=np.float64)
    if weights.sum() <= 0:
        weights = np.ones(vocab)
    mass = np.cumsum(weights[popularity_order(counts, vocab)])
    bounds = [0]
    for k in range(1, num_blocks):
        cut = int(np.searchsorted(mass, k * mass[-1] / num_blocks, side="left")) + 1
        bounds.append(min(max(cut, bounds[-1] + 1), vocab - (num_blocks - k)))
    bounds.append(vocab)
    return [b - a for a, b in pairwise(bounds)]


def alpha_power_dims(sizes: list[int], base_dim: int, alpha: float) -> list[int]:
    """``max(1, round(base_dim * (n_0 / n_k) ** alpha))`` for blocks of ``sizes`` ids."""
    n0 = max(sizes[0], 1)
    return [max(1, int(np.floor(base_dim * (n0 / max(n, 1)) ** alpha + 0.5))) for n in sizes]


def assign_blocks(counts: np.ndarray | None, vocab: int, sizes: list[int]) -> np.ndarray:
    """Block of each id: consecutive runs of the popularity order; unrated ids go last."""
    order = popularity_order(counts, vocab)
    block = np.empty(vocab, dtype=np.int32)
    block[order] = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)
    if counts is not None:
        block[np.asarray(counts) == 0] = len(sizes) - 1
    return block


def plan_blocks(options: MixedDimOptions, request: TableRequest, dim: int) -> tuple[Any, list[int]]:
    """``(block of each id, dims of each block)`` for ``request``, or a ConfigError."""
    vocab, key = request.vocab, f"embedding.{request.table}"
    counts = request.counts
    if counts is not None and len(counts) != vocab:
        raise ValueError(f"{request.name}: {len(counts)} counts for a vocabulary of {vocab}")
    if options.blocks is not None and options.dims is not None:
        if sum(options.blocks) >= vocab:
            raise ConfigError(
                f"blocks hold {sum(options.blocks)} ids but the {request.table} vocabulary has "
                f"{vocab}, leaving none for the last block",
                key=f"{key}.blocks",
                got=options.blocks,
            )
        if options.dims[0] > dim:
            raise ConfigError(
                f"dims may not exceed the base dim {dim}", key=f"{key}.dims", got=options.dims
            )
        sizes = [*options.blocks, vocab - sum(options.blocks)]
        return assign_blocks(counts, vocab, sizes), list(options.dims)
    num_blocks = options.num_blocks or DEFAULT_NUM_BLOCKS
    if num_blocks > vocab:
        raise ConfigError(
            f"more blocks than the {vocab} ids of the {request.table} vocabulary",
            key=f"{key}.num_blocks",
            got=num_blocks,
        )
    sizes = equal_mass_sizes(counts, vocab, num_blocks)
    block = assign_blocks(counts, vocab, sizes)
    sizes = np.bincount(block, minlength=num_blocks).tolist()
    alpha = DEFAULT_ALPHA if options.alpha is None else options.alpha
    return block, alpha_power_dims(sizes, dim, alpha)


@EMBEDDINGS.register(
    "mixed_dim", options=MixedDimOptions, help="row width by popularity (Ginart et al. 2019)"
)
def build_mixed_dim(options: MixedDimOptions, request: TableRequest) -> Any:
    import keras

    from recexp.embeddings.layers.mixed_dim import MixedDimensionEmbedding

    dim = request.with_dim(options)
    block, dims = plan_blocks(options, request, dim)
    sizes = np.bincount(block, minlength=len(dims))
    buckets = [
        0 if c == 1 else max(1, int(n // c))
        for c, n in zip(options.qr_compression or [1] * len(dims), sizes, strict=True)
    ]
    return MixedDimensionEmbedding(
        block_assignment=block.tolist(),
        block_dims=dims,
        output_dim=dim,
        spare_rows=options.sizing == "keras_io",
        projection_bias=options.sizing == "keras_io",
        embeddings_initializer=options.initializer,
        embeddings_regularizer=keras.regularizers.L2(options.l2) if options.l2 else None,
        block_buckets=buckets if any(buckets) else None,
        row_order=(
            popularity_order(request.counts, request.vocab).tolist() if any(buckets) else None
        ),
        name=request.name,
    )
