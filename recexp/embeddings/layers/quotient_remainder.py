"""``QuotientRemainderEmbedding``: the quotient-remainder trick as a Keras layer."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from recexp.embeddings.layers.base import EmbeddingTable
from recexp.embeddings.layers.initializers import fresh_initializer
from recexp.embeddings.layers.lookup import lookup

COMBINERS = ("multiply", "add", "concat")


@keras.saving.register_keras_serializable(package="recexp")
class QuotientRemainderEmbedding(keras.layers.Layer, EmbeddingTable):
    """Embeds integer ids with two small tables instead of one row per id.

    Id `i` reads row `i // num_buckets` of a quotient table and row
    `i % num_buckets` of a remainder table; the two rows are combined into one
    vector. Distinct ids in `[0, vocabulary_size)` always read distinct pairs
    of rows, so each id gets its own vector while the layer stores only
    `quotient_rows + num_buckets` rows instead of `vocabulary_size`.

    Args:
        vocabulary_size: int. Number of ids; inputs lie in `[0, vocabulary_size)`.
        output_dim: int. Size of the output vectors.
        num_buckets: int. Rows of the remainder table (the divisor).
        quotient_rows: int. Rows of the quotient table; at least
            `ceil(vocabulary_size / num_buckets)`. Defaults to that minimum.
            The keras-io example uses `num_buckets`.
        combiner: str. `"multiply"` (element-wise product), `"add"` or
            `"concat"` (each table holds `output_dim // 2` columns, so
            `output_dim` must be even). Defaults to `"multiply"`.
        embeddings_initializer: str or initializer. Initializer of both
            tables. Defaults to `"uniform"`, as `keras.layers.Embedding`.
        quotient_initializer: str or initializer. Initializer of the
            quotient table, when it should differ from the remainder table's:
            `"ones"` with `"multiply"` (or `"zeros"` with `"add"`) starts every
            id at its remainder row and lets the quotient rows learn a
            per-group correction. Defaults to `None`:
            `embeddings_initializer`.
        embeddings_regularizer: str or regularizer. Regularizer of both
            tables. Defaults to `None`.
        id_ranks: list of int. Optional permutation of `[0, vocabulary_size)`:
            id `i` is split as `id_ranks[i]` instead of `i`. With ranks by
            training frequency (most rated first), the quotient row is a
            popularity tier and each remainder row is shared by one id of each
            tier, so a frequent id shares its row only with rarer ones.
            Saved in the config. Defaults to `None` (ids split as they are).
        **kwargs: Args to pass to the base class.

    Input shape:
        Integer tensor of any shape `(batch_size, ...)`.

    Output shape:
        `(batch_size, ..., output_dim)`.

    Example:

    ```python
    layer = QuotientRemainderEmbedding(vocabulary_size=6040, output_dim=64, num_buckets=120)
    vectors = layer(np.array([[0], [6039]]))  # shape (2, 1, 64)
    ```

    References:
    - [H.-J. M. Shi et al.](https://arxiv.org/abs/1909.02107)
    - [keras-io: Memory-efficient embeddings](https://keras.io/examples/keras_recipes/memory_efficient_embeddings/)
    """

    strategy = "quotient_remainder"

    def __init__(
        self,
        vocabulary_size: int,
        output_dim: int,
        num_buckets: int,
        quotient_rows: int | None = None,
        combiner: str = "multiply",
        embeddings_initializer: Any = "uniform",
        embeddings_regularizer: Any = None,
        quotient_initializer: Any = None,
        id_ranks: list[int] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if id_ranks is not None:
            ranks = np.asarray(id_ranks, dtype=np.int32).reshape(-1)
            if ranks.size != vocabulary_size or not np.array_equal(
                np.sort(ranks), np.arange(vocabulary_size)
            ):
                raise ValueError(
                    f"id_ranks must be a permutation of range({vocabulary_size}), "
                    f"got {ranks.size} values"
                )
            self._ranks: np.ndarray | None = ranks
        else:
            self._ranks = None
        needed = -(-int(vocabulary_size) // int(num_buckets))
        if combiner not in COMBINERS:
            raise ValueError(f"combiner must be one of {COMBINERS}, got {combiner!r}")
        if combiner == "concat" and output_dim % 2:
            raise ValueError(f"combiner 'concat' needs an even output_dim, got {output_dim}")
        if quotient_rows is not None and quotient_rows < needed:
            raise ValueError(
                f"quotient_rows={quotient_rows} is too few: {vocabulary_size} ids with "
                f"num_buckets={num_buckets} have {needed} quotients"
            )
        self.vocabulary_size = int(vocabulary_size)
        self.output_dim = int(output_dim)
        self.num_buckets = int(num_buckets)
        self.quotient_rows = int(quotient_rows) if quotient_rows is not None else needed
        self.combiner = combiner
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.embeddings_regularizer = keras.regularizers.get(embeddings_regularizer)
        self.quotient_initializer = (
            None if quotient_initializer is None else keras.initializers.get(quotient_initializer)
        )

    @property
    def rows(self) -> int:
        """Rows stored in both tables together."""
        return self.quotient_rows + self.num_buckets

    def table_report(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "vocabulary": self.vocabulary_size,
            "rows": self.rows,
            "dim": self.output_dim,
        }

    def build(self, input_shape: Any = None) -> None:
        width = self.output_dim // 2 if self.combiner == "concat" else self.output_dim
        self.quotient_embeddings = self.add_weight(
            shape=(self.quotient_rows, width),
            initializer=(
                fresh_initializer(self.embeddings_initializer, 0)
                if self.quotient_initializer is None
                else self.quotient_initializer
            ),
            regularizer=self.embeddings_regularizer,
            name="quotient_embeddings",
        )
        self.remainder_embeddings = self.add_weight(
            shape=(self.num_buckets, width),
            initializer=fresh_initializer(self.embeddings_initializer, 1),
            regularizer=self.embeddings_regularizer,
            name="remainder_embeddings",
        )

    def call(self, inputs: Any) -> Any:
        ids = ops.cast(inputs, "int32")
        if self._ranks is not None:
            ids = ops.take(ops.convert_to_tensor(self._ranks), ids, axis=0)
        quotient = lookup(self.quotient_embeddings, ids // self.num_buckets)
        remainder = lookup(self.remainder_embeddings, ids % self.num_buckets)
        if self.combiner == "multiply":
            return quotient * remainder
        if self.combiner == "add":
            return quotient + remainder
        return ops.concatenate([quotient, remainder], axis=-1)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (*input_shape, self.output_dim)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "output_dim": self.output_dim,
                "num_buckets": self.num_buckets,
                "quotient_rows": self.quotient_rows,
                "combiner": self.combiner,
                "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": keras.regularizers.serialize(self.embeddings_regularizer),
                "id_ranks": None if self._ranks is None else self._ranks.tolist(),
                "quotient_initializer": (
                    None
                    if self.quotient_initializer is None
                    else keras.initializers.serialize(self.quotient_initializer)
                ),
            }
        )
        return config
