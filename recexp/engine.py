"""The compiled training engine: one TensorFlow graph call per epoch.

``model.fit`` on numpy arrays pays, per step, for a Python round trip, a data-adapter
slice and a host-to-graph copy; on small recommender models that overhead is most of
the step. This engine keeps the int32 codes and float32 ratings as tensors, shuffles
indices inside the graph and runs every step of an epoch in one ``tf.function``
(a ``tf.while_loop`` over ``model.train_step``, Keras' own step: the same loss,
regularisation, optimizer and metrics as ``fit``). Validation predicts in large
batches in graph mode. Callbacks (history, early stopping, display) are called at
epoch boundaries exactly as ``fit`` would call them.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np
import tensorflow as tf


class CompiledEpochs:
    """Runs whole epochs of ``model.train_step`` over in-memory arrays in one graph call."""

    def __init__(
        self,
        model: keras.Model,
        x: dict[str, np.ndarray],
        y: np.ndarray,
        batch_size: int,
        shuffle: bool = True,
        seed: int = 0,
    ) -> None:
        self.model = model
        self.n = len(y)
        self.batch_size = min(batch_size, self.n)
        self.steps = math.ceil(self.n / self.batch_size)
        self.x = {k: tf.constant(v) for k, v in x.items()}
        self.y = tf.constant(y.reshape(-1, 1).astype(np.float32))
        self.shuffle = shuffle
        self.seed = seed
        self.epochs_run = tf.Variable(0, dtype=tf.int64, trainable=False)
        first = {k: v[: self.batch_size] for k, v in x.items()}
        model._symbolic_build(data_batch=(first, y[: self.batch_size].reshape(-1, 1)))
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        self._epoch = tf.function(self._run_epoch, reduce_retracing=True)

    def _run_epoch(self) -> Any:
        n, bs = self.n, self.batch_size
        self.epochs_run.assign_add(1)
        seed = tf.stack([tf.constant(self.seed, tf.int64), self.epochs_run])
        rows = tf.range(n)
        order = tf.random.experimental.stateless_shuffle(rows, seed) if self.shuffle else rows
        for step in tf.range(self.steps):
            idx = order[step * bs : tf.minimum((step + 1) * bs, n)]
            batch = {k: tf.gather(v, idx) for k, v in self.x.items()}
            self.model.train_step((batch, tf.gather(self.y, idx)))
        return tf.constant(0)

    def run_epoch(self) -> dict[str, float]:
        """One pass over the data; returns the epoch's training logs (loss and metrics)."""
        self.model.reset_metrics()
        self._epoch()
        return {k: float(v) for k, v in self.model.get_metrics_result().items()}


class GraphPredictor:
    """``model(x, training=False)`` in large batches, traced once."""

    def __init__(self, model: keras.Model, batch_size: int) -> None:
        self.model = model
        self.batch_size = batch_size
        self._call = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

    def __call__(self, x: dict[str, np.ndarray]) -> np.ndarray:
        n = len(next(iter(x.values())))
        out = []
        for start in range(0, n, self.batch_size):
            chunk = {k: v[start : start + self.batch_size] for k, v in x.items()}
            out.append(np.asarray(self._call(chunk)).reshape(-1))
        return np.concatenate(out) if out else np.empty(0, np.float32)
