"""The compiled training engine: epochs of Keras' own ``train_step`` in graph calls.

``model.fit`` on numpy arrays pays, per step, for a Python round trip, a data-adapter
slice and a host-to-graph copy; on small recommender models that overhead is most of
the step. This engine keeps the int32 codes and float32 ratings as tensors, shuffles
indices inside the graph and runs the steps of an epoch in ``tf.function`` calls
(a ``tf.while_loop`` over ``model.train_step``: the same loss, regularisation, optimizer
and metrics as ``fit``), each about a quarter of a second long so that a signal is
answered promptly. Validation predicts in large batches in graph mode. Callbacks
(history, early stopping, display) are called at epoch boundaries as ``fit`` calls them.
"""

from __future__ import annotations

import math
import time
from typing import Any

import keras
import numpy as np
import tensorflow as tf


class CompiledEpochs:
    """Runs whole epochs of ``model.train_step`` over in-memory arrays, in graph calls of
    bounded length.

    One call runs a chunk of steps; the chunk is sized from the previous call's time to
    about ``call_seconds``, so Ctrl-C and SIGTERM (answered by Python between calls) take
    effect within about a second however long an epoch is. Chunking leaves the steps, their
    order and so the numbers unchanged. ``max_steps`` bounds an epoch to its first
    ``max_steps`` batches of a fresh shuffle (``training.steps_per_epoch``).
    """

    def __init__(
        self,
        model: keras.Model,
        x: dict[str, np.ndarray],
        y: np.ndarray,
        batch_size: int,
        shuffle: bool = True,
        seed: int = 0,
        call_seconds: float = 0.25,
        max_steps: int | None = None,
    ) -> None:
        self.model = model
        self.n = len(y)
        self.batch_size = min(batch_size, self.n)
        self.steps = math.ceil(self.n / self.batch_size)
        if max_steps:
            self.steps = min(self.steps, max_steps)
        self.ratings_per_epoch = min(self.n, self.steps * self.batch_size)
        self.x = {k: tf.constant(v) for k, v in x.items()}
        self.y = tf.constant(y.reshape(-1, 1).astype(np.float32))
        self.shuffle = shuffle
        self.seed = seed
        self.call_seconds = call_seconds
        self.chunk = max(1, min(self.steps, 65_536 // self.batch_size))
        self.calls = 0
        self.epochs_run = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.order = tf.Variable(tf.range(self.n), trainable=False)
        first = {k: v[: self.batch_size] for k, v in x.items()}
        model._symbolic_build(data_batch=(first, y[: self.batch_size].reshape(-1, 1)))
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        self._new_order = tf.function(self._shuffle_rows)
        self._run_steps = tf.function(self._steps_between, reduce_retracing=True)

    def _shuffle_rows(self) -> Any:
        self.epochs_run.assign_add(1)
        seed = tf.stack([tf.constant(self.seed, tf.int64), self.epochs_run])
        rows = tf.range(self.n)
        self.order.assign(
            tf.random.experimental.stateless_shuffle(rows, seed) if self.shuffle else rows
        )
        return tf.constant(0)

    def _steps_between(self, first: Any, last: Any) -> Any:
        n, bs = self.n, self.batch_size
        order = tf.identity(self.order)
        for step in tf.range(first, last):
            idx = order[step * bs : tf.minimum((step + 1) * bs, n)]
            batch = {k: tf.gather(v, idx) for k, v in self.x.items()}
            self.model.train_step((batch, tf.gather(self.y, idx)))
        return tf.constant(0)

    def run_epoch(self) -> dict[str, float]:
        """One pass over the data; returns the epoch's training logs (loss and metrics)."""
        self.model.reset_metrics()
        self._new_order()
        step = 0
        while step < self.steps:
            last = min(step + self.chunk, self.steps)
            start = time.perf_counter()
            self._run_steps(tf.constant(step), tf.constant(last))
            self._resize(last - step, time.perf_counter() - start)
            step = last
        return {k: float(v) for k, v in self.model.get_metrics_result().items()}

    def _resize(self, steps: int, seconds: float) -> None:
        """The next chunk: as many steps as fit in ``call_seconds`` at this call's pace."""
        self.calls += 1
        if self.calls == 1 or seconds <= 0:  # the first call pays for tracing
            return
        wanted = steps * self.call_seconds / seconds
        self.chunk = int(max(1, min(self.steps, round(wanted))))


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
