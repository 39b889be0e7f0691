"""Keras layers of ``glocal_k`` (Han et al. 2021): the local-kernel dense layer and the
global convolution kernel. TensorFlow backend (``tf.nn.conv2d``)."""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf
from keras import ops


def local_kernel(u: Any, v: Any) -> Any:
    """RBF-like compact kernel ``max(0, 1 - ||u_i - v_j||^2)``: (n_in, 1, d) x (1, n_out, d)
    -> (n_in, n_out), values in [0, 1], 1 where the two points coincide."""
    dist2 = ops.sum(ops.square(u - v), axis=2)
    return ops.maximum(0.0, 1.0 - dist2)


@keras.saving.register_keras_serializable(package="recexp")
class LocalKernelDense(keras.layers.Layer):
    """``f(x (W * K(u, v)) + b)``: a dense layer whose weights are sparsified by a learned
    local kernel over n_dim-dimensional points of its inputs (u) and outputs (v).

    :meth:`penalty` = ``lambda_s/2 ||K||^2 + lambda_2/2 ||W||^2`` (the repo's
    ``l2_regularizer`` terms, on the summed squared error scale).
    """

    def __init__(
        self,
        units: int,
        n_dim: int = 5,
        activation: str = "sigmoid",
        lambda_s: float = 0.006,
        lambda_2: float = 20.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units, self.n_dim = int(units), int(n_dim)
        self.activation = activation
        self.lambda_s, self.lambda_2 = float(lambda_s), float(lambda_2)
        self._f = keras.activations.get(activation)

    def build(self, input_shape: Any) -> None:
        n_in = int(input_shape[-1])
        self.kernel = self.add_weight(
            shape=(n_in, self.units), initializer="glorot_uniform", name="W"
        )
        small = keras.initializers.TruncatedNormal(stddev=1e-3)
        self.u = self.add_weight(shape=(n_in, 1, self.n_dim), initializer=small, name="u")
        self.v = self.add_weight(shape=(1, self.units, self.n_dim), initializer=small, name="v")
        # TF1's get_variable default (the repo): glorot uniform, also for the bias
        self.bias = self.add_weight(shape=(self.units,), initializer="glorot_uniform", name="b")
        self.built = True

    def local_weights(self) -> Any:
        return local_kernel(self.u, self.v)

    def call(self, x: Any) -> Any:
        return self._f(ops.matmul(x, self.kernel * self.local_weights()) + self.bias)

    def penalty(self) -> Any:
        k = self.local_weights()
        return 0.5 * self.lambda_s * ops.sum(ops.square(k)) + 0.5 * self.lambda_2 * ops.sum(
            ops.square(self.kernel)
        )

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (*input_shape[:-1], self.units)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "units": self.units,
            "n_dim": self.n_dim,
            "activation": self.activation,
            "lambda_s": self.lambda_s,
            "lambda_2": self.lambda_2,
        }


@keras.saving.register_keras_serializable(package="recexp")
class GlobalKernel(keras.layers.Layer):
    """The global kernel: item-wise average pooling of the pre-trained reconstruction
    (n_items, n_users) -> (1, n_items), times a learned (n_items, gk_size^2) matrix,
    scaled, as a (gk_size, gk_size) convolution kernel; :meth:`convolve` applies it to the
    rating matrix (SAME padding, ReLU), as the repo's ``global_conv``."""

    def __init__(
        self, n_items: int, gk_size: int = 3, dot_scale: float = 1.0, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.n_items, self.gk_size, self.dot_scale = int(n_items), int(gk_size), float(dot_scale)

    def build(self, input_shape: Any = None) -> None:
        self.conv_kernel = self.add_weight(
            shape=(self.n_items, self.gk_size**2),
            initializer=keras.initializers.TruncatedNormal(stddev=0.1),
            name="conv_kernel",
        )
        self.built = True

    def call(self, reconstruction: Any) -> Any:
        pooled = ops.reshape(ops.mean(reconstruction, axis=1), (1, -1))
        gk = ops.matmul(pooled, self.conv_kernel) * self.dot_scale
        return ops.reshape(gk, (self.gk_size, self.gk_size, 1, 1))

    @staticmethod
    def convolve(matrix: Any, kernel: Any) -> Any:
        image = tf.reshape(matrix, [1, tf.shape(matrix)[0], tf.shape(matrix)[1], 1])
        out = tf.nn.relu(tf.nn.conv2d(image, kernel, strides=[1, 1, 1, 1], padding="SAME"))
        return tf.reshape(out, tf.shape(matrix))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "n_items": self.n_items,
            "gk_size": self.gk_size,
            "dot_scale": self.dot_scale,
        }


@keras.saving.register_keras_serializable(package="recexp")
class GLocalK(keras.Model):
    """Item-based autoencoder of local-kernel layers plus the global kernel.

    ``local(R)``: n_layers sigmoid LocalKernelDense(n_hid) then a linear one back to
    n_users (pre-training's reconstruction). ``fine(R)``: the global kernel from
    ``local(R)``, the rating matrix convolved with it, then ``local`` of that (fine-tuning).
    ``R`` is the (n_items, n_users) train rating matrix, zeros where unobserved.
    """

    def __init__(
        self,
        n_users: int,
        n_items: int,
        n_hid: int = 500,
        n_dim: int = 5,
        n_layers: int = 2,
        lambda_s: float = 0.006,
        lambda_2: float = 20.0,
        gk_size: int = 3,
        dot_scale: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.config_ = {
            "n_users": int(n_users),
            "n_items": int(n_items),
            "n_hid": int(n_hid),
            "n_dim": int(n_dim),
            "n_layers": int(n_layers),
            "lambda_s": float(lambda_s),
            "lambda_2": float(lambda_2),
            "gk_size": int(gk_size),
            "dot_scale": float(dot_scale),
        }
        self.hidden_layers = [
            LocalKernelDense(n_hid, n_dim, "sigmoid", lambda_s, lambda_2, name=f"local_{i}")
            for i in range(n_layers)
        ]
        self.output_layer = LocalKernelDense(
            n_users, n_dim, "linear", lambda_s, lambda_2, name="local_out"
        )
        self.global_kernel = GlobalKernel(n_items, gk_size, dot_scale, name="global_kernel")

    def build(self, input_shape: Any = None) -> None:
        n_in = self.config_["n_users"]
        for layer in self.hidden_layers:
            layer.build((None, n_in))
            n_in = layer.units
        self.output_layer.build((None, n_in))
        self.global_kernel.build()
        self.built = True

    def local(self, x: Any) -> Any:
        for layer in self.hidden_layers:
            x = layer(x)
        return self.output_layer(x)

    def penalty(self) -> Any:
        return sum(layer.penalty() for layer in [*self.hidden_layers, self.output_layer])

    def fine(self, ratings: Any) -> Any:
        kernel = self.global_kernel(self.local(ratings))
        return self.local(GlobalKernel.convolve(ratings, kernel))

    def call(self, ratings: Any) -> Any:
        return self.fine(ratings)

    def local_variables(self) -> list[Any]:
        return [
            w for layer in [*self.hidden_layers, self.output_layer] for w in layer.trainable_weights
        ]

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, **self.config_}
