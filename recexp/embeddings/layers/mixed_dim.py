"""``MixedDimensionEmbedding``: mixed-dimension embeddings as a Keras layer."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from recexp.embeddings.layers.base import EmbeddingTable
from recexp.embeddings.layers.blocks import quotient_remainder_shape, rows_within_blocks
from recexp.embeddings.layers.initializers import fresh_initializer
from recexp.embeddings.layers.lookup import lookup


@keras.saving.register_keras_serializable(package="recexp")
class MixedDimensionEmbedding(keras.layers.Layer, EmbeddingTable):
    """Embeds integer ids with one narrow-or-wide table per block of ids.

    Each id belongs to one block (`block_assignment[id]`). Block `k` stores a
    `block_dims[k]`-column row for each of its ids (in `row_order`) and, when
    `block_dims[k] < output_dim`, a `block_dims[k] x output_dim` projection, so
    every id gets an `output_dim` vector of its own. Rarely seen ids can live in
    narrow blocks and cost few parameters.

    The block assignment is fixed when the layer is made (from training
    frequencies, outside the model) and is saved in the layer's config.

    Args:
        block_assignment: list of int. Block of each id; its length is the
            vocabulary size and its values lie in `[0, len(block_dims))`.
        block_dims: list of int. Row width of each block.
        output_dim: int. Size of the output vectors; no block is wider.
        spare_rows: bool. Give each block one extra, never-trained row that
            out-of-block ids read before being masked out, as the keras-io
            example does (it reproduces its parameter count). Defaults to
            `False`.
        projection_bias: bool. Whether the projections have a bias (keras-io
            uses `Dense` with a bias). Defaults to `False`.
        embeddings_initializer: str or initializer. Initializer of the block
            tables. Defaults to `"uniform"`, as `keras.layers.Embedding`.
        embeddings_regularizer: str or regularizer. Regularizer of the block
            tables. Defaults to `None`.
        block_buckets: list of int. Optional, one entry per block: `0` stores
            the block's rows as they are; `b > 0` stores them with the
            quotient-remainder trick (Shi et al. 2019): row `r` of the block is
            the element-wise product of row `r // b` of a quotient table
            and row `r % b` of a `b`-row remainder table (both drawn from
            `embeddings_initializer`), so rare ids share rows yet keep distinct
            vectors. Defaults to `None` (no block compressed).
        row_order: list of int. Optional, the ids in the order their rows are
            laid out within each block (ids most rated first puts a block's
            frequent ids in different remainder rows of one quotient tier).
            Defaults to `None`: id order.
        **kwargs: Args to pass to the base class.

    Input shape:
        Integer tensor of any shape `(batch_size, ...)`.

    Output shape:
        `(batch_size, ..., output_dim)`.

    Example:

    ```python
    # ids 0 and 3 are popular (64 columns); 1, 2 and 4 rare (16 columns + projection)
    layer = MixedDimensionEmbedding(
        block_assignment=[0, 1, 1, 0, 1], block_dims=[64, 16], output_dim=64
    )
    vectors = layer(np.array([[0], [4]]))  # shape (2, 1, 64)

    # the rare block's 3 rows stored as 2 quotient x 2 remainder rows (QR inside MD)
    layer = MixedDimensionEmbedding(
        block_assignment=[0, 1, 1, 0, 1], block_dims=[64, 16], output_dim=64,
        block_buckets=[0, 2],
    )
    ```

    References:
    - [A. Ginart et al.](https://arxiv.org/abs/1909.11810)
    - [H.-J. M. Shi et al.](https://arxiv.org/abs/1909.02107)
    - [keras-io: Memory-efficient embeddings](https://keras.io/examples/keras_recipes/memory_efficient_embeddings/)
    """

    strategy = "mixed_dim"

    def __init__(
        self,
        block_assignment: list[int],
        block_dims: list[int],
        output_dim: int,
        spare_rows: bool = False,
        projection_bias: bool = False,
        embeddings_initializer: Any = "uniform",
        embeddings_regularizer: Any = None,
        block_buckets: list[int] | None = None,
        row_order: list[int] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        buckets = [0] * len(block_dims) if block_buckets is None else list(block_buckets)
        if len(buckets) != len(block_dims) or any(int(b) < 0 for b in buckets):
            raise ValueError(
                f"block_buckets needs one value >= 0 per block ({len(block_dims)}), "
                f"got {block_buckets}"
            )
        block = np.asarray(block_assignment, dtype=np.int32).reshape(-1)
        if block.size and (block.min() < 0 or block.max() >= len(block_dims)):
            raise ValueError(
                f"block_assignment values must lie in [0, {len(block_dims)}), got "
                f"[{block.min()}, {block.max()}]"
            )
        if any(d > output_dim for d in block_dims):
            raise ValueError(f"block_dims {block_dims} may not exceed output_dim {output_dim}")
        self.block_assignment = block.tolist()
        self.block_dims = [int(d) for d in block_dims]
        self.output_dim = int(output_dim)
        self.spare_rows = bool(spare_rows)
        self.projection_bias = bool(projection_bias)
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.embeddings_regularizer = keras.regularizers.get(embeddings_regularizer)
        self.block_sizes = np.bincount(block, minlength=len(block_dims)).tolist()
        self.block_buckets = [int(b) for b in buckets]
        self.row_order = None if row_order is None else [int(i) for i in row_order]
        self._block = block
        self._row = rows_within_blocks(block, len(block_dims), self.row_order)

    @property
    def vocabulary_size(self) -> int:
        return len(self.block_assignment)

    @property
    def rows(self) -> int:
        """Rows stored in all block tables together (quotient and remainder rows counted)."""
        return sum(self.block_rows)

    @property
    def block_rows(self) -> list[int]:
        """Rows stored for each block (quotient and remainder rows for a QR block)."""
        return [self._stored_rows(k) for k in range(len(self.block_dims))]

    def table_report(self) -> dict[str, Any]:
        report: dict[str, Any] = {
            "strategy": self.strategy,
            "vocabulary": self.vocabulary_size,
            "rows": self.rows,
            "dim": self.output_dim,
            "block_sizes": list(self.block_sizes),
            "block_dims": list(self.block_dims),
            "block_rows": self.block_rows,
        }
        if any(self.block_buckets):
            report["block_buckets"] = list(self.block_buckets)
        return report

    def _table_rows(self, k: int) -> int:
        """Rows block ``k`` addresses: one per id (plus the spare row)."""
        return self.block_sizes[k] + (1 if self.spare_rows else 0)

    def _qr_shape(self, k: int) -> tuple[int, int] | None:
        """``(quotient rows, remainder rows)`` of a quotient-remainder block, else None."""
        return quotient_remainder_shape(self._table_rows(k), self.block_buckets[k])

    def _stored_rows(self, k: int) -> int:
        shape = self._qr_shape(k)
        return self._table_rows(k) if shape is None else sum(shape)

    def build(self, input_shape: Any = None) -> None:
        self.tables: list[Any] = []
        self.quotients: list[Any] = []
        self.kernels: list[Any] = []
        self.biases: list[Any] = []
        for k, dim in enumerate(self.block_dims):
            rows = self._table_rows(k)
            qr = self._qr_shape(k)
            self.tables.append(
                self.add_weight(
                    shape=(rows if qr is None else qr[1], dim),
                    initializer=self.embeddings_initializer,
                    regularizer=self.embeddings_regularizer,
                    name=f"block_{k}_embeddings" if qr is None else f"block_{k}_remainder",
                )
                if rows
                else None
            )
            self.quotients.append(
                None
                if qr is None
                else self.add_weight(
                    shape=(qr[0], dim),
                    initializer=fresh_initializer(self.embeddings_initializer, 1),
                    regularizer=self.embeddings_regularizer,
                    name=f"block_{k}_quotient",
                )
            )
            projected = rows and dim != self.output_dim
            self.kernels.append(
                self.add_weight(
                    shape=(dim, self.output_dim),
                    initializer="glorot_uniform",
                    name=f"block_{k}_projection",
                )
                if projected
                else None
            )
            self.biases.append(
                self.add_weight(
                    shape=(self.output_dim,), initializer="zeros", name=f"block_{k}_bias"
                )
                if projected and self.projection_bias
                else None
            )

    def call(self, inputs: Any) -> Any:
        if keras.backend.backend() == "tensorflow" and any(t is not None for t in self.tables):
            return self._call_partitioned(inputs)
        return self._call_masked(inputs)

    def _call_partitioned(self, inputs: Any) -> Any:
        """TensorFlow: each id is gathered from its own block and projected once.

        The batch positions are split by block (``tf.dynamic_partition``); each block
        gathers only its ids' rows (a resource gather, so the table's gradient is a
        ``tf.IndexedSlices`` over the touched rows) and projects only them; the vectors
        are put back in batch order with ``tf.dynamic_stitch``. Same numbers as
        :meth:`_call_masked`, without the ``blocks x batch`` gathers and matmuls.
        """
        import tensorflow as tf

        ids = ops.reshape(ops.cast(inputs, "int32"), (-1,))
        # ops.take (not tf.gather) so that negative ids wrap as in _call_masked
        block = ops.take(ops.convert_to_tensor(self._block), ids, axis=0)
        row = ops.take(ops.convert_to_tensor(self._row), ids, axis=0)
        num_blocks = len(self.block_dims)
        positions = tf.dynamic_partition(tf.range(tf.size(ids)), block, num_blocks)
        rows = tf.dynamic_partition(row, block, num_blocks)
        kept, parts = [], []
        for k, table in enumerate(self.tables):
            if table is None:  # an empty block: no id maps to it
                continue
            vectors = ops.cast(self._rows(k, rows[k]), self.compute_dtype)
            if self.kernels[k] is not None:
                vectors = ops.matmul(vectors, self.kernels[k])
            if self.biases[k] is not None:
                vectors = vectors + self.biases[k]
            kept.append(positions[k])
            parts.append(vectors)
        output = tf.dynamic_stitch(kept, parts)
        return ops.reshape(output, (*ops.shape(inputs), self.output_dim))

    def _rows(self, k: int, rows: Any) -> Any:
        """Rows ``rows`` of block ``k``: gathered, or composed from quotient and remainder."""
        if self.quotients[k] is None:
            return lookup(self.tables[k], rows)
        buckets = self.tables[k].shape[0]
        return lookup(self.quotients[k], rows // buckets) * lookup(self.tables[k], rows % buckets)

    def _call_masked(self, inputs: Any) -> Any:
        """Any backend: every block gathers and projects the whole batch, then masks."""
        ids = ops.cast(inputs, "int32")
        block = ops.take(ops.convert_to_tensor(self._block), ids, axis=0)
        row = ops.take(ops.convert_to_tensor(self._row), ids, axis=0)
        output = None
        for k, table in enumerate(self.tables):
            if table is None:
                continue
            in_block = ops.equal(block, k)
            spare = self.block_sizes[k] if self.spare_rows else 0
            vectors = self._rows(k, ops.where(in_block, row, spare))
            if self.kernels[k] is not None:
                vectors = ops.matmul(vectors, self.kernels[k])
            if self.biases[k] is not None:
                vectors = vectors + self.biases[k]
            vectors = vectors * ops.expand_dims(ops.cast(in_block, vectors.dtype), -1)
            output = vectors if output is None else output + vectors
        return output

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (*input_shape, self.output_dim)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_config()
        config.update(
            {
                "block_assignment": self.block_assignment,
                "block_dims": self.block_dims,
                "output_dim": self.output_dim,
                "spare_rows": self.spare_rows,
                "projection_bias": self.projection_bias,
                "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": keras.regularizers.serialize(self.embeddings_regularizer),
                "block_buckets": self.block_buckets,
                "row_order": self.row_order,
            }
        )
        return config
