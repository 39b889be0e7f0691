"""Small layers the families share, serializable so ``model.keras`` reloads."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="recexp")
class AddConstant(keras.layers.Layer):
    """Adds a fixed scalar, e.g. the training mean rating.

    Args:
        value: float. The constant added to every input.

    Input shape: any. Output shape: same as input.
    """

    def __init__(self, value: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.value = float(value)

    def call(self, inputs: Any) -> Any:
        return inputs + self.value

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "value": self.value}


@keras.saving.register_keras_serializable(package="recexp")
class ScaledSigmoid(keras.layers.Layer):
    """``sigmoid(x) * scale``: squashes scores into ``(0, scale)`` (seed 002's output).

    Args:
        scale: float. The upper end of the output range, e.g. the top rating.

    Input shape: any. Output shape: same as input.
    """

    def __init__(self, scale: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scale = float(scale)

    def call(self, inputs: Any) -> Any:
        return ops.sigmoid(inputs) * self.scale

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "scale": self.scale}


@keras.saving.register_keras_serializable(package="recexp")
class ScalarBias(keras.layers.Layer):
    """Adds one trainable scalar, initialised to a constant (e.g. the training mean).

    Args:
        initial: float. The scalar's starting value.

    Input shape: any. Output shape: same as input.
    """

    def __init__(self, initial: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.initial = float(initial)

    def build(self, input_shape: Any) -> None:
        self.bias = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(self.initial),
            trainable=True,
            name="bias",
        )

    def call(self, inputs: Any) -> Any:
        return inputs + ops.cast(self.bias, inputs.dtype)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "initial": self.initial}


@keras.saving.register_keras_serializable(package="recexp")
class FeatureLookup(keras.layers.Layer):
    """Gathers a fixed row of integer side features for each id: ``table[id]``.

    The table is a non-trainable int32 weight, so it is saved with the model's weights
    and a reloaded model needs no extra inputs; ``get_config`` keeps only its shape
    (``table`` would repeat the weights in the config, so it is left out).

    Args:
        vocab_size: int. Number of ids (table rows).
        width: int. Integers per id (1 for a categorical feature, the padded length
            for a token or genre list).
        table: array-like of shape ``(vocab_size, width)`` or ``(vocab_size,)``, or
            ``None``. The initial contents; ``None`` (used when reloading) fills zeros.

    Input shape: int ids of shape ``(batch, 1)``.
    Output shape: int32 ``(batch, width)``.
    """

    def __init__(self, vocab_size: int, width: int, table: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.vocab_size = int(vocab_size)
        self.width = int(width)
        self._initial = None
        if table is not None:
            array = np.asarray(table, dtype="int32")
            if array.size != self.vocab_size * self.width:
                raise ValueError(
                    f"FeatureLookup {self.name!r}: table: expected "
                    f"{self.vocab_size} x {self.width} values, received shape {array.shape}"
                )
            self._initial = array.reshape(self.vocab_size, self.width)

    def build(self, input_shape: Any) -> None:
        self.table = self.add_weight(
            shape=(self.vocab_size, self.width),
            dtype="int32",
            initializer="zeros",
            trainable=False,
            name="table",
        )
        if self._initial is not None:
            self.table.assign(self._initial)

    def call(self, inputs: Any) -> Any:
        ids = ops.reshape(ops.cast(inputs, "int32"), (-1,))
        return ops.take(self.table, ids, axis=0)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (input_shape[0], self.width)

    def compute_output_spec(self, inputs: Any) -> Any:
        return keras.KerasTensor((inputs.shape[0], self.width), dtype="int32")

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "vocab_size": self.vocab_size, "width": self.width}


@keras.saving.register_keras_serializable(package="recexp")
class MaskedMean(keras.layers.Layer):
    """Mean of the vectors whose id is not 0 (padding / unknown); all-padding gives zeros.

    Unlike ``GlobalAveragePooling1D`` with ``mask_zero``, a row with no valid id
    yields a zero vector rather than NaN.

    Input shape: a list ``[vectors, ids]``: float ``(batch, width, dim)`` and int
        ``(batch, width)``.
    Output shape: ``(batch, dim)``.
    """

    def call(self, inputs: Any) -> Any:
        vectors, ids = inputs
        mask = ops.cast(ops.not_equal(ids, 0), vectors.dtype)
        total = ops.sum(vectors * ops.expand_dims(mask, -1), axis=1)
        count = ops.maximum(ops.sum(mask, axis=1, keepdims=True), 1.0)
        return total / count

    def compute_output_shape(self, input_shape: Any) -> Any:
        vectors_shape = input_shape[0]
        return (vectors_shape[0], vectors_shape[2])


@keras.saving.register_keras_serializable(package="recexp")
class RowL2(keras.layers.Layer):
    """Whole-table L2 in expectation, put only on the batch's looked-up rows.

    Each looked-up vector's squared norm is weighted by ``n / count[id]`` (``n`` training
    ratings, ``count[id]`` of them with that id): the penalty is
    ``l2 * sum_b w[id_b] * ||v_b||^2 / batch``. A batch draws row ``r`` about
    ``batch * count[r] / n`` times, so the expected penalty per step is
    ``l2 * sum_r ||e_r||^2`` -- Keras' ``embeddings_regularizer=L2(l2)`` -- while the
    gradient reaches only the batch's rows (``IndexedSlices``: lazy optimizers stay sparse).
    Rare ids are shrunk as hard as whole-table L2 shrinks them; per-rating L2
    (:func:`rating_l2`) shrinks them once per rating.

    Args:
        l2: float. The whole-table coefficient.
        vocab_size: int. Rows in the table.
        counts: array-like ``(vocab_size,)`` or ``None``. Training ratings per id (an id
            with none is weighted as if seen once); ``None`` (reloading) fills zeros, and
            the saved weights restore the weights.

    Input shape: ``[vectors, ids]``: ``(batch, 1, dim)`` or ``(batch, dim)``, and
        ``(batch, 1)``. Output shape: ``(batch, dim)``.
    """

    def __init__(self, l2: float, vocab_size: int, counts: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.l2 = float(l2)
        self.vocab_size = int(vocab_size)
        self._initial = None
        if counts is not None:
            counts = np.asarray(counts, np.float64).reshape(-1)
            self._initial = (counts.sum() / np.maximum(counts, 1.0)).astype("float32")

    def build(self, input_shape: Any) -> None:
        self.row_weight = self.add_weight(
            shape=(self.vocab_size,), initializer="zeros", trainable=False, name="row_weight"
        )
        if self._initial is not None:
            self.row_weight.assign(self._initial)

    def call(self, inputs: Any) -> Any:
        vectors, ids = inputs
        flat = ops.reshape(vectors, (-1, vectors.shape[-1]))
        weight = ops.take(self.row_weight, ops.reshape(ops.cast(ids, "int32"), (-1,)), axis=0)
        squares = ops.sum(ops.square(flat), axis=-1) * ops.cast(weight, flat.dtype)
        self.add_loss(self.l2 * ops.sum(squares) / ops.cast(ops.shape(flat)[0], flat.dtype))
        return flat

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (input_shape[0][0], input_shape[0][-1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "l2": self.l2, "vocab_size": self.vocab_size}


def rating_l2(vectors: Any, l2: float, name: str | None = None) -> Any:
    """``vectors`` flattened to ``(batch, dim)``, with the per-rating L2 penalty on them.

    The penalty is ``l2 * sum(vectors**2) / batch`` (Keras' ``ActivityRegularization``,
    which divides by the batch size): the looked-up rows of the batch are regularised once
    per rating, as Surprise's SVD does, not the whole table as ``embeddings_regularizer``.
    Its gradient reaches only the looked-up rows, so an embedding table's gradient stays
    ``tf.IndexedSlices`` and the lazy optimizers update only the batch's rows.
    ``l2 == 0`` adds nothing (no layer).
    """
    flat = keras.layers.Flatten(name=None if name is None else f"{name}_flat")(vectors)
    if not l2:
        return flat
    return keras.layers.ActivityRegularization(l2=l2, name=name)(flat)
