"""``HashedEmbedding``: the hashing trick as a Keras layer, and its hash in numpy.

Id ``i`` reads row ``((a * i + b) mod P) mod num_bins`` with ``P = 2**31 - 1`` and ``a``,
``b`` drawn from ``salt`` (a Carter-Wegman universal hash): integer arithmetic that numpy
and Keras compute alike, so :func:`hash_ids` gives the layer's bins without Keras ops and
:func:`collisions` counts the ids that share a bin when the layer is made.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from recexp.embeddings.layers.base import EmbeddingTable
from recexp.embeddings.layers.lookup import lookup

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


@keras.saving.register_keras_serializable(package="recexp")
class HashedEmbedding(keras.layers.Layer, EmbeddingTable):
    """Embeds integer ids into `num_bins` rows chosen by a salted hash.

    Id `i` reads row `((a * i + b) mod P) mod num_bins`, with `P = 2**31 - 1`
    and `a`, `b` derived from `salt` (a universal hash family). The hash is
    deterministic: the same id and salt always read the same row. Ids that hash
    to the same bin share a vector.

    Args:
        num_bins: int. Rows of the table.
        output_dim: int. Size of the output vectors.
        salt: int. Selects the hash function. Defaults to `0`.
        vocabulary_size: int. Number of ids the table serves, used only to
            count collisions (`collisions`). Defaults to `None`.
        embeddings_initializer: str or initializer. Initializer of the table.
            Defaults to `"uniform"`, as `keras.layers.Embedding`.
        embeddings_regularizer: str or regularizer. Regularizer of the table.
            Defaults to `None`.
        **kwargs: Args to pass to the base class.

    Input shape:
        Non-negative integer tensor of any shape `(batch_size, ...)`, ids
        below `2**31`.

    Output shape:
        `(batch_size, ..., output_dim)`.

    Example:

    ```python
    layer = HashedEmbedding(num_bins=1000, output_dim=32, salt=7, vocabulary_size=6040)
    vectors = layer(np.array([[0], [6039]]))  # shape (2, 1, 32)
    layer.collisions  # {"colliding_ids": ..., "bins_used": ...}
    ```

    References:
    - [K. Weinberger et al.](https://arxiv.org/abs/0902.2206)
    - [J. L. Carter and M. N. Wegman](https://doi.org/10.1016/0022-0000(79)90044-8)
    """

    strategy = "hashing"

    def __init__(
        self,
        num_bins: int,
        output_dim: int,
        salt: int = 0,
        vocabulary_size: int | None = None,
        embeddings_initializer: Any = "uniform",
        embeddings_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if num_bins < 1:
            raise ValueError(f"num_bins must be >= 1, got {num_bins}")
        self.num_bins = int(num_bins)
        self.output_dim = int(output_dim)
        self.salt = int(salt)
        self.vocabulary_size = None if vocabulary_size is None else int(vocabulary_size)
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.embeddings_regularizer = keras.regularizers.get(embeddings_regularizer)
        self._a, self._b = hash_coefficients(self.salt)
        self.collisions = (
            collisions(self.vocabulary_size, self.num_bins, self.salt)
            if self.vocabulary_size
            else None
        )

    @property
    def rows(self) -> int:
        return self.num_bins

    def table_report(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "vocabulary": self.vocabulary_size,
            "rows": self.rows,
            "dim": self.output_dim,
            **(self.collisions or {}),
        }

    def build(self, input_shape: Any = None) -> None:
        self.embeddings = self.add_weight(
            shape=(self.num_bins, self.output_dim),
            initializer=self.embeddings_initializer,
            regularizer=self.embeddings_regularizer,
            name="embeddings",
        )

    def bins(self, inputs: Any) -> Any:
        """The bin of each id, as an int32 tensor of the input's shape."""
        ids = ops.cast(inputs, "int64")
        hashed = ops.mod(ops.mod(ids * self._a + self._b, PRIME), self.num_bins)
        return ops.cast(hashed, "int32")

    def call(self, inputs: Any) -> Any:
        return lookup(self.embeddings, self.bins(inputs))

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (*input_shape, self.output_dim)

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = super().get_config()
        config.update(
            {
                "num_bins": self.num_bins,
                "output_dim": self.output_dim,
                "salt": self.salt,
                "vocabulary_size": self.vocabulary_size,
                "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": keras.regularizers.serialize(self.embeddings_regularizer),
            }
        )
        return config
