"""Row-wise Adagrad: one accumulator per table row, as FBGEMM and TorchRec run large
embedding tables (their default optimizer for them).

A table's optimizer state shrinks from ``dim`` (Adagrad) or ``2 dim`` (Adam) numbers a row
to one, and so does the memory an update touches besides the row itself. Sparse gradients
go through :mod:`recexp.training.sparse_optimizers`' machinery (repeated ids merged, lazy
weight decay, clipping on the merged values).
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from recexp.training.sparse_optimizers import LazyAdam, _raw, _SparseMixin, subtract_rows

__all__ = ["LazyAdamRowwiseTables", "RowwiseAdagrad", "rowwise_adagrad_rows"]


@keras.saving.register_keras_serializable(package="recexp")
class RowwiseAdagrad(_SparseMixin, keras.optimizers.Adagrad):
    """Adagrad with one accumulator per row of every matrix: FBGEMM's and TorchRec's
    row-wise Adagrad, their default for large embedding tables.

    Args: those of ``keras.optimizers.Adagrad``. For a matrix (an embedding table, a dense
    kernel) row ``r`` keeps one number: ``acc[r] += mean_j g[r, j]**2``, ``w[r] -= lr g[r]
    / sqrt(acc[r] + eps)``; an ``IndexedSlices`` gradient updates only its rows (repeated
    ids merged first), a dense one every row (rows with a zero gradient do not move, so
    the two agree). Other variables (vectors, scalars) get Keras' element-wise Adagrad.

    A table's optimizer state is one number a row instead of Adagrad's ``dim`` or Adam's
    ``2 dim``, so an update reads and writes the row and one more number: on tables
    larger than the cache (MovieLens 25M's shape) that is most of a step's memory traffic
    (``benchmarks/speed_shape_levers.py``).
    """

    def build(self, var_list: Any) -> None:
        if self.built:
            return
        super(keras.optimizers.Adagrad, self).build(var_list)  # not Adagrad's slots
        initializer = keras.initializers.Constant(self.initial_accumulator_value)
        self._accumulators = [
            self.add_variable(
                (variable.shape[0], 1) if len(variable.shape) == 2 else variable.shape,
                initializer=initializer,
                dtype=variable.dtype,
                name=f"{variable.path.replace('/', '_')}_accumulator",
            )
            for variable in var_list
        ]

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        if len(variable.shape) != 2:
            self._decay(variable, learning_rate)
            super().update_step(gradient, variable, learning_rate)
            return
        dtype = variable.dtype
        lr = tf.cast(learning_rate, dtype)
        epsilon = tf.cast(self.epsilon, dtype)
        acc = _raw(self._accumulators[self._get_variable_index(variable)])
        if not isinstance(gradient, tf.IndexedSlices):
            self._decay(variable, learning_rate)
            grad = tf.cast(gradient, dtype)
            acc.assign_add(tf.reduce_mean(tf.square(grad), axis=1, keepdims=True))
            _raw(variable).assign_sub(lr * grad / tf.sqrt(acc + epsilon))
            return
        indices, grad = self._prepare_sparse(gradient, variable)
        self._decay(variable, learning_rate, indices)
        rowwise_adagrad_rows(variable, acc, indices, grad, lr, epsilon)


def rowwise_adagrad_rows(
    variable: Any, accumulator: Any, indices: Any, grad: Any, lr: Any, epsilon: Any
) -> None:
    """Row-wise Adagrad on the rows ``indices`` (distinct) of a table: ``acc[r] += mean_j
    g[r, j]**2``, ``w[r] -= lr g[r] / sqrt(acc[r] + epsilon)``; ``accumulator`` is
    ``[rows, 1]``."""
    acc = _raw(accumulator)
    acc_rows = tf.gather(acc, indices) + tf.reduce_mean(tf.square(grad), axis=1, keepdims=True)
    acc.scatter_update(tf.IndexedSlices(acc_rows, indices))
    subtract_rows(variable, indices, (lr * grad) / tf.sqrt(acc_rows + epsilon))


@keras.saving.register_keras_serializable(package="recexp")
class LazyAdamRowwiseTables(LazyAdam):
    """Row-wise Adagrad for the embedding tables, lazy Adam for the rest: TorchRec's split
    (a fused row-wise optimizer for the tables, a dense one for the MLP) in one Keras
    optimizer, since Keras 3 takes one optimizer a model.

    Args: those of :class:`~recexp.training.sparse_optimizers.LazyAdam` (``learning_rate``
    is the rest's), plus ``table_learning_rate``, ``table_initial_accumulator_value`` and
    ``table_epsilon``. A variable whose gradient is ``tf.IndexedSlices`` (a table looked up
    by id) gets :func:`rowwise_adagrad_rows` at ``table_learning_rate``; a dense gradient
    (dense layers, or a table under a whole-table penalty) gets Adam. Schedules and
    callbacks move ``learning_rate`` only. Adam's two slots are still allocated for the
    tables, unused: memory, not traffic (which slots a variable needs is known only from
    its gradient, after ``build``).
    """

    def __init__(
        self,
        table_learning_rate: float = 0.2,
        table_initial_accumulator_value: float = 1e-6,
        table_epsilon: float = 1e-7,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.table_learning_rate = table_learning_rate
        self.table_initial_accumulator_value = table_initial_accumulator_value
        self.table_epsilon = table_epsilon

    def build(self, var_list: Any) -> None:
        if self.built:
            return
        super().build(var_list)
        initializer = keras.initializers.Constant(self.table_initial_accumulator_value)
        self._row_accumulators = [
            self.add_variable(
                (variable.shape[0], 1),
                initializer=initializer,
                dtype=variable.dtype,
                name=f"{variable.path.replace('/', '_')}_row_accumulator",
            )
            if len(variable.shape) == 2
            else None
            for variable in var_list
        ]

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        accumulator = self._row_accumulators[self._get_variable_index(variable)]
        if not isinstance(gradient, tf.IndexedSlices) or accumulator is None:
            super().update_step(gradient, variable, learning_rate)
            return
        indices, grad = self._prepare_sparse(gradient, variable)
        self._decay(variable, learning_rate, indices)
        dtype = variable.dtype
        rate, epsilon = (tf.cast(v, dtype) for v in (self.table_learning_rate, self.table_epsilon))
        rowwise_adagrad_rows(variable, accumulator, indices, grad, rate, epsilon)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "table_learning_rate": self.table_learning_rate,
            "table_initial_accumulator_value": self.table_initial_accumulator_value,
            "table_epsilon": self.table_epsilon,
        }
