"""Sparse-aware ("lazy") Keras 3 optimizers for embedding-heavy recommenders (TF backend).

Keras 3's ``Adam`` turns the ``tf.IndexedSlices`` gradient of an embedding lookup into a
dense tensor (``ops.subtract(gradient, m)`` densifies), so every step rewrites every row
of every table and both of its moment slots, although a batch touches a few hundred rows.
(It also squares the ``IndexedSlices`` values *before* densifying, so an id that occurs
twice in a batch adds ``g1**2 + g2**2`` to ``v`` instead of ``(g1 + g2)**2``.) The
optimizers here keep such gradients sparse:

* :class:`LazyAdam` -- the TensorFlow Addons ``LazyAdam`` update: for an ``IndexedSlices``
  gradient only the rows in the batch have their first/second moments and weights
  updated; the moments of the other rows are *not* decayed. The bias correction uses the
  global step (``iterations + 1``), as TFA did, not a per-row step count. Dense gradients
  get exactly ``keras.optimizers.Adam``'s update (the same code runs).
* :class:`SparseAdagrad` -- Adagrad with a row-wise scatter update. Adagrad has no decay,
  so for a row whose gradient is zero the dense update is ``acc += 0`` and
  ``w -= lr * 0 / sqrt(acc + epsilon) = 0``: the sparse update is *mathematically
  identical* to the dense one. Epsilon (inside the square root, as in Keras 3, not added
  to it as in TF1/TFA) only shows up in the denominator of rows that *are* updated, where
  both paths use the same formula; the one divergence is ``initial_accumulator_value +
  epsilon == 0``, where dense Adagrad computes ``0 / 0 = NaN`` for every untouched row and
  the sparse one leaves those rows alone. Keras' own ``Adagrad`` already scatters an
  ``IndexedSlices`` gradient, but without merging repeated ids, so when an id occurs twice
  in a batch its accumulator gains ``g1**2 + g2**2`` instead of ``(g1 + g2)**2`` (what the
  dense gradient gives), and it takes ``sqrt(acc + epsilon)`` over the whole accumulator
  every step; ``SparseAdagrad`` merges repeated ids first (matching dense Adagrad) and
  touches only the batch rows.

``recexp/training/rowwise_adagrad.py`` adds :class:`RowwiseAdagrad` on the same machinery
(one accumulator per table row).

The classes subclass the Keras optimizer they extend, so they take its arguments and
``get_config``/``from_config`` work unchanged, and both merge repeated indices
(``tf.unique`` + ``unsorted_segment_sum``) before updating.

Interaction with the base-optimizer options (TF backend):

* ``clipnorm`` / ``clipvalue``: Keras keeps the gradient sparse (``tf.clip_by_norm``
  accepts ``IndexedSlices``), but clips the *per-occurrence* values; with repeated ids
  that is not the norm/values of the true gradient. Here repeated ids are merged before
  clipping, so clipping sees the same numbers as for the dense gradient.
* ``global_clipnorm``: Keras' ``clip_by_global_norm`` densifies ``IndexedSlices``. Here
  it is computed on the merged values and the result stays sparse.
* ``weight_decay``: Keras applies decoupled weight decay to *every* row of every
  variable before the update (an O(vocab x dim) pass that would cancel the savings).
  Here decay is applied inside ``update_step``: dense gradients get Keras' decay
  unchanged; for an ``IndexedSlices`` gradient only the rows in the batch are decayed
  (as TFA's ``DecoupledWeightDecayExtension`` did for sparse gradients). Rows not in the
  batch are not decayed: lazy weight decay, a different regulariser from dense AdamW.
* ``gradient_accumulation_steps``: Keras sums gradients into dense accumulators, so the
  update step sees a dense gradient and the ordinary (non-lazy) update runs.
* ``use_ema``: the moving average is updated densely over all variables every step.
* An ``embeddings_regularizer`` adds a dense term to the table's gradient, so that table
  gets the dense update. ``weight_decay`` keeps it sparse, but it is decoupled and lazy,
  not the same regulariser as an L2 penalty in the loss.

XLA: ``IndexedSlices`` reach ``update_step`` under ``jit_compile=True`` as well (the
scatter ops compile), but Keras' ``jit_compile="auto"`` resolves to ``False`` on a
CPU-only machine. See ``benchmarks/sparse_optimizers.py`` for measured speeds.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

__all__ = ["LazyAdam", "SparseAdagrad", "deduplicate_indexed_slices"]


def deduplicate_indexed_slices(grad: tf.IndexedSlices) -> tf.IndexedSlices:
    """Merge the rows of ``grad`` that share an index (summing them), as the dense sum would."""
    unique_indices, positions = tf.unique(grad.indices)
    values = tf.math.unsorted_segment_sum(
        grad.values, positions, tf.shape(unique_indices, out_type=positions.dtype)[0]
    )
    return tf.IndexedSlices(values, unique_indices, grad.dense_shape)


def _raw(variable: Any) -> Any:
    """The ``tf.Variable`` behind a Keras variable (gather/scatter need the raw resource)."""
    return variable.value if isinstance(variable, keras.Variable) else variable


def subtract_rows(variable: Any, indices: Any, delta: Any, rows: Any = None) -> None:
    """``variable[indices] -= delta`` for *distinct* ``indices``: the rows (``rows`` when
    the caller has gathered them) reduced and written back whole (``ResourceScatterUpdate``).
    The same numbers as ``scatter_sub``, whose CPU kernel applies each row through an Eigen
    expression: 2.1-2.7x the time for the batch's rows (``benchmarks/speed_profile.py``'s
    ``scatter_only`` against ``rewrite_only``)."""
    raw = _raw(variable)
    rows = tf.gather(raw, indices) if rows is None else rows
    raw.scatter_update(tf.IndexedSlices(rows - delta, indices))


class _SparseMixin:
    """Shared machinery: duplicate merging, sparse-preserving clipping, lazy weight decay.

    Must come before the Keras optimizer class in the bases.
    """

    # Provided by keras.optimizers.Optimizer.
    weight_decay: Any
    clipnorm: Any
    clipvalue: Any
    global_clipnorm: Any

    def _backend_apply_gradients(self, grads: Any, trainable_variables: Any) -> Any:
        if self._clipping():
            # Clipping must see the true (merged) gradient; update_step merges otherwise.
            grads = [
                deduplicate_indexed_slices(g) if isinstance(g, tf.IndexedSlices) else g
                for g in grads
            ]
        return super()._backend_apply_gradients(grads, trainable_variables)  # type: ignore[misc]

    def _clipping(self) -> bool:
        return bool(self.clipnorm or self.clipvalue or self.global_clipnorm)

    def _merged_for_clipping(self) -> bool:
        """Whether update_step receives the gradients merged for clipping as they were: with
        one replica. With more, the replicas' rows are concatenated on the way, so
        update_step merges again. Not merging twice matters under XLA: tf.unique of a
        dynamically sized input comes back padded with a repeated id, whose stale row the
        scatters would write back."""
        return self._clipping() and tf.distribute.get_strategy().num_replicas_in_sync == 1

    def _clip_gradients(self, grads: Any) -> Any:
        # Keras allows only one of clipnorm / clipvalue / global_clipnorm.
        if not (self.global_clipnorm and self.global_clipnorm > 0):
            return super()._clip_gradients(grads)  # type: ignore[misc]
        # Keras' clip_by_global_norm densifies IndexedSlices; do it on the values instead.
        squares = [
            tf.reduce_sum(tf.square(g.values if isinstance(g, tf.IndexedSlices) else g))
            for g in grads
            if g is not None
        ]
        use_norm = tf.sqrt(tf.add_n([tf.cast(s, "float32") for s in squares]))
        clip_norm = tf.cast(self.global_clipnorm, "float32")
        scale = clip_norm * tf.minimum(1.0 / use_norm, 1.0 / clip_norm)
        scale = scale + (use_norm - use_norm)  # NaN for a non-finite norm, as Keras

        def scaled(g: Any) -> Any:
            if g is None:
                return None
            if isinstance(g, tf.IndexedSlices):
                s = tf.cast(scale, g.values.dtype)
                return tf.IndexedSlices(g.values * s, g.indices, g.dense_shape)
            return g * tf.cast(scale, g.dtype)

        return [scaled(g) for g in grads]

    def _apply_weight_decay(self, variables: Any) -> None:
        # Applied per variable in update_step (see _decay), where the gradient is known.
        return None

    def _decay(self, variable: Any, learning_rate: Any, indices: Any = None) -> None:
        if self.weight_decay is None or not self._use_weight_decay(variable):  # type: ignore[attr-defined]
            return
        lr = tf.cast(learning_rate, variable.dtype)
        wd = tf.cast(self.weight_decay, variable.dtype)
        raw = _raw(variable)
        if indices is None:
            raw.assign_sub(raw * wd * lr)  # the TF backend's _apply_weight_decay
        else:
            rows = tf.gather(raw, indices)
            subtract_rows(raw, indices, rows * wd * lr, rows)

    def _prepare_sparse(self, gradient: tf.IndexedSlices, variable: Any) -> tuple[Any, Any]:
        """The gradient's distinct rows and their values in the variable's dtype."""
        if not self._merged_for_clipping():
            gradient = deduplicate_indexed_slices(gradient)
        return gradient.indices, tf.cast(gradient.values, variable.dtype)


@keras.saving.register_keras_serializable(package="recexp")
class LazyAdam(_SparseMixin, keras.optimizers.Adam):
    """Adam that updates only the embedding rows present in the batch (TFA's LazyAdam).

    Args: those of ``keras.optimizers.Adam`` -- ``learning_rate``, ``beta_1``, ``beta_2``,
    ``epsilon``, ``amsgrad`` and the base-optimizer keywords (``weight_decay``,
    ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``use_ema``, ``ema_momentum``,
    ``ema_overwrite_frequency``, ``loss_scale_factor``, ``gradient_accumulation_steps``,
    ``name``). For ``tf.IndexedSlices`` gradients:

    ``m[r] = b1 m[r] + (1 - b1) g[r]``, ``v[r] = b2 v[r] + (1 - b2) g[r]**2``,
    ``w[r] -= lr sqrt(1 - b2**t) / (1 - b1**t) * m[r] / (sqrt(v[r]) + eps)``

    for the rows ``r`` in the batch only (``t = iterations + 1``, global). Dense
    gradients get ``keras.optimizers.Adam``'s update. See the module docstring for
    ``weight_decay`` (decays only the batch rows of sparse variables) and clipping.
    """

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        if not isinstance(gradient, tf.IndexedSlices):
            self._decay(variable, learning_rate)
            super().update_step(gradient, variable, learning_rate)
            return
        indices, grad = self._prepare_sparse(gradient, variable)
        self._decay(variable, learning_rate, indices)

        dtype = variable.dtype
        lr = tf.cast(learning_rate, dtype)
        local_step = tf.cast(self.iterations + 1, dtype)
        beta_1_power = tf.pow(tf.cast(self.beta_1, dtype), local_step)
        beta_2_power = tf.pow(tf.cast(self.beta_2, dtype), local_step)
        alpha = lr * tf.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        # 1 - beta is formed before the cast, as in Keras' Adam, so touched rows match it.
        one_minus_beta_1 = tf.cast(1 - self.beta_1, dtype)
        one_minus_beta_2 = tf.cast(1 - self.beta_2, dtype)
        epsilon = tf.cast(self.epsilon, dtype)

        index = self._get_variable_index(variable)
        m = _raw(self._momentums[index])
        v = _raw(self._velocities[index])

        # Same arithmetic as Keras' dense Adam (m += (g - m) * (1 - b1)), row by row.
        m_rows = tf.gather(m, indices)
        m_rows = m_rows + (grad - m_rows) * one_minus_beta_1
        m.scatter_update(tf.IndexedSlices(m_rows, indices))
        v_rows = tf.gather(v, indices)
        v_rows = v_rows + (tf.square(grad) - v_rows) * one_minus_beta_2
        v.scatter_update(tf.IndexedSlices(v_rows, indices))
        if self.amsgrad:
            v_hat = _raw(self._velocity_hats[index])
            v_rows = tf.maximum(tf.gather(v_hat, indices), v_rows)
            v_hat.scatter_update(tf.IndexedSlices(v_rows, indices))

        subtract_rows(variable, indices, (m_rows * alpha) / (tf.sqrt(v_rows) + epsilon))


@keras.saving.register_keras_serializable(package="recexp")
class SparseAdagrad(_SparseMixin, keras.optimizers.Adagrad):
    """Adagrad with a row-wise update for ``tf.IndexedSlices`` gradients.

    Args: those of ``keras.optimizers.Adagrad`` -- ``learning_rate``,
    ``initial_accumulator_value``, ``epsilon`` and the base-optimizer keywords. For the
    rows ``r`` in the batch: ``acc[r] += g[r]**2``, ``w[r] -= lr g[r] / sqrt(acc[r] + eps)``
    (Keras 3's formula; identical to dense Adagrad for the other rows, whose gradient is
    zero -- see the module docstring). Dense gradients get ``keras.optimizers.Adagrad``'s
    update.
    """

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        if not isinstance(gradient, tf.IndexedSlices):
            self._decay(variable, learning_rate)
            super().update_step(gradient, variable, learning_rate)
            return
        indices, grad = self._prepare_sparse(gradient, variable)
        self._decay(variable, learning_rate, indices)

        dtype = variable.dtype
        lr = tf.cast(learning_rate, dtype)
        epsilon = tf.cast(self.epsilon, dtype)
        acc = _raw(self._accumulators[self._get_variable_index(variable)])

        acc_rows = tf.gather(acc, indices) + tf.square(grad)
        acc.scatter_update(tf.IndexedSlices(acc_rows, indices))
        subtract_rows(variable, indices, (lr * grad) / tf.sqrt(acc_rows + epsilon))
