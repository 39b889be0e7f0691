"""Keras layers of ``svdpp`` (Koren 2008): the implicit-feedback sum and the whole model.

TensorFlow backend only (ragged gathers and segment sums).
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="recexp")
class ImplicitFeedback(keras.layers.Layer):
    """``|N(u)|^-1/2 sum_{j in N(u)} y_j`` for a batch of users, and ``sum_j ||y_j||^2``.

    N(u) (the items each user rated in train) is stored in the layer as two non-trainable
    int32 weights in compressed-row form (``indptr``: n_users + 1, ``indices``: nnz), set
    once with :meth:`set_neighbourhood`, so that a saved model carries it. Each batch
    computes the sum once per distinct user (``tf.unique`` + a ragged gather + segment
    sums); the gather keeps the gradient of ``y`` sparse (only the rows in N(u) of the
    batch's users).
    """

    def __init__(
        self, n_users: int, n_items: int, dim: int, nnz: int, init_std: float = 0.1, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.n_users, self.n_items, self.dim, self.nnz = (
            int(n_users),
            int(n_items),
            int(dim),
            int(nnz),
        )
        self.init_std = float(init_std)

    def build(self, input_shape: Any = None) -> None:
        self.y = self.add_weight(
            shape=(self.n_items, self.dim),
            initializer=keras.initializers.RandomNormal(stddev=self.init_std),
            name="implicit_embedding",
        )
        self.indptr = self.add_weight(
            shape=(self.n_users + 1,),
            dtype="int32",
            initializer="zeros",
            trainable=False,
            name="indptr",
        )
        self.indices = self.add_weight(
            shape=(self.nnz,), dtype="int32", initializer="zeros", trainable=False, name="indices"
        )
        self.built = True

    def set_neighbourhood(self, indptr: Any, indices: Any) -> None:
        if not self.built:
            self.build()
        self.indptr.assign(tf.cast(indptr, tf.int32))
        self.indices.assign(tf.cast(indices, tf.int32))

    def call(self, users: Any) -> tuple[Any, Any]:
        users = tf.reshape(tf.cast(users, tf.int32), [-1])
        unique, where = tf.unique(users)
        k = tf.shape(unique)[0]
        indptr = tf.convert_to_tensor(self.indptr)
        starts = tf.gather(indptr, unique)
        ends = tf.gather(indptr, unique + 1)
        positions = tf.ragged.range(starts, ends)
        items = tf.gather(tf.convert_to_tensor(self.indices), positions.flat_values)
        segment = tf.cast(positions.value_rowids(), tf.int32)
        y = tf.gather(self.y, items)  # IndexedSlices gradient
        total = tf.math.unsorted_segment_sum(y, segment, k)
        sq = tf.math.unsorted_segment_sum(tf.reduce_sum(tf.square(y), axis=1), segment, k)
        count = tf.cast(tf.maximum(ends - starts, 1), y.dtype)
        implicit = total * tf.math.rsqrt(count)[:, None]
        return tf.gather(implicit, where), tf.gather(sq, where)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "n_users": self.n_users,
            "n_items": self.n_items,
            "dim": self.dim,
            "nnz": self.nnz,
            "init_std": self.init_std,
        }


@keras.saving.register_keras_serializable(package="recexp")
class SVDpp(keras.Model):
    """``mu + b_u + b_i + q_i . (p_u + |N(u)|^-1/2 sum_{j in N(u)} y_j)``.

    Inputs: ``{"user_input", "item_input"}`` int32 codes, shape (batch, 1) or (batch,).
    :meth:`penalty` is the per-rating L2 of the looked-up rows:
    ``l2 (||p_u||^2 + ||q_i||^2) + implicit_l2 sum_{j in N(u)} ||y_j||^2``
    ``+ bias_l2 (b_u^2 + b_i^2)``.
    """

    def __init__(
        self,
        n_users: int,
        n_items: int,
        dim: int,
        nnz: int,
        global_mean: float = 0.0,
        l2: float = 0.0,
        implicit_l2: float = 0.0,
        bias_l2: float = 0.0,
        init_std: float = 0.1,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.n_users, self.n_items, self.dim, self.nnz = (
            int(n_users),
            int(n_items),
            int(dim),
            int(nnz),
        )
        self.global_mean = float(global_mean)
        self.l2, self.implicit_l2, self.bias_l2 = float(l2), float(implicit_l2), float(bias_l2)
        self.init_std = float(init_std)
        normal = keras.initializers.RandomNormal(stddev=init_std)
        self.user_embedding = keras.layers.Embedding(
            n_users, dim, embeddings_initializer=normal, name="user_embedding"
        )
        self.item_embedding = keras.layers.Embedding(
            n_items, dim, embeddings_initializer=normal, name="item_embedding"
        )
        self.user_bias = keras.layers.Embedding(
            n_users, 1, embeddings_initializer="zeros", name="user_bias"
        )
        self.item_bias = keras.layers.Embedding(
            n_items, 1, embeddings_initializer="zeros", name="item_bias"
        )
        self.implicit = ImplicitFeedback(n_users, n_items, dim, nnz, init_std, name="implicit")

    def build(self, input_shape: Any = None) -> None:
        for layer in (self.user_embedding, self.item_embedding, self.user_bias, self.item_bias):
            layer.build((None,))
        self.implicit.build()
        self.built = True

    def terms(self, inputs: dict[str, Any]) -> tuple[Any, Any]:
        """(predictions (batch,), per-rating penalty (batch,))."""
        user = tf.reshape(tf.cast(inputs["user_input"], tf.int32), [-1])
        item = tf.reshape(tf.cast(inputs["item_input"], tf.int32), [-1])
        p = self.user_embedding(user)
        q = self.item_embedding(item)
        bu = tf.reshape(self.user_bias(user), [-1])
        bi = tf.reshape(self.item_bias(item), [-1])
        implicit, y_sq = self.implicit(user)
        score = self.global_mean + bu + bi + tf.reduce_sum(q * (p + implicit), axis=1)
        penalty = (
            self.l2 * (tf.reduce_sum(tf.square(p), 1) + tf.reduce_sum(tf.square(q), 1))
            + self.implicit_l2 * y_sq
            + self.bias_l2 * (tf.square(bu) + tf.square(bi))
        )
        return score, penalty

    def call(self, inputs: dict[str, Any]) -> Any:
        return tf.reshape(self.terms(inputs)[0], [-1, 1])

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "n_users": self.n_users,
            "n_items": self.n_items,
            "dim": self.dim,
            "nnz": self.nnz,
            "global_mean": self.global_mean,
            "l2": self.l2,
            "implicit_l2": self.implicit_l2,
            "bias_l2": self.bias_l2,
            "init_std": self.init_std,
        }
