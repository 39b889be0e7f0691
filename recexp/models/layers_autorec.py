"""Keras layers of the autoencoder families: AutoRec's one-hidden-layer autoencoder and
the masked reconstruction loss (observed entries only)."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="recexp")
class AutoRec(keras.layers.Layer):
    """``h(r) = f(V g(W r + b) + c)`` (Sedhain et al. 2015) over one rating vector per row.

    ``g`` = ``hidden_activation`` (sigmoid in the paper), ``f`` = ``output_activation``
    (identity). :meth:`l2_penalty` is the paper's ``lambda / 2 (||W||^2 + ||V||^2)``;
    the caller scales it to the batch (biases are not regularised, as in the paper).
    """

    def __init__(
        self,
        n_inputs: int,
        hidden: int,
        hidden_activation: str = "sigmoid",
        output_activation: str = "linear",
        l2: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.n_inputs = int(n_inputs)
        self.hidden = int(hidden)
        self.hidden_activation = hidden_activation
        self.output_activation = output_activation
        self.l2 = float(l2)
        self._g = keras.activations.get(hidden_activation)
        self._f = keras.activations.get(output_activation)

    def build(self, input_shape: Any = None) -> None:
        self.encoder = self.add_weight(
            shape=(self.n_inputs, self.hidden), initializer="glorot_uniform", name="encoder"
        )
        self.encoder_bias = self.add_weight(
            shape=(self.hidden,), initializer="zeros", name="encoder_bias"
        )
        self.decoder = self.add_weight(
            shape=(self.hidden, self.n_inputs), initializer="glorot_uniform", name="decoder"
        )
        self.decoder_bias = self.add_weight(
            shape=(self.n_inputs,), initializer="zeros", name="decoder_bias"
        )
        self.built = True

    def encode(self, x: Any) -> Any:
        return self._g(ops.matmul(x, self.encoder) + self.encoder_bias)

    def call(self, x: Any) -> Any:
        return self._f(ops.matmul(self.encode(x), self.decoder) + self.decoder_bias)

    def l2_penalty(self) -> Any:
        return (
            0.5 * self.l2 * (ops.sum(ops.square(self.encoder)) + ops.sum(ops.square(self.decoder)))
        )

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (*input_shape[:-1], self.n_inputs)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "n_inputs": self.n_inputs,
            "hidden": self.hidden,
            "hidden_activation": self.hidden_activation,
            "output_activation": self.output_activation,
            "l2": self.l2,
        }


def masked_squared_error(y_true: Any, y_pred: Any, mask: Any) -> Any:
    """Sum of squared errors over the observed entries (``mask`` = 1) only."""
    return ops.sum(ops.square((y_true - y_pred) * mask))
