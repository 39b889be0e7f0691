"""The compiled training engine: epochs of Keras' own ``train_step`` in graph calls.

``model.fit`` on numpy arrays pays, per step, for a Python round trip, a data-adapter
slice and a host-to-graph copy; on small recommender models that overhead is most of
the step. This engine keeps the int32 codes and float32 ratings as variables held in
the shuffled order (each pass permutes them in place, inside the graph, so a batch is a
contiguous slice rather than a gather of random rows: at MovieLens 25M's shape the
gather missed the cache on every rating) and runs the steps of an epoch in
``tf.function`` calls
(a ``tf.while_loop`` over ``model.train_step``: the same loss, regularisation, optimizer
and metrics as ``fit``), each about a quarter of a second long so that a signal is
answered promptly. Validation predicts in large batches in graph mode. Callbacks
(history, early stopping, display) are called at epoch boundaries as ``fit`` calls them.

Under a ``tf.distribute`` strategy (the model built in its scope) each step is
``strategy.run`` of ``train_step`` on every replica: replica ``r`` of ``R`` takes rows
``[r n / R, (r + 1) n / R)`` of the step's global batch of ``n`` (sliced on the host CPU),
Keras scales each replica's loss by ``1 / R`` and the optimizer sums the gradients across
replicas (``IndexedSlices`` stay sparse). On a multi-worker cluster every worker holds all
the data and the same shuffled order (same seed), and each graph call is one step:
TensorFlow's collective all-gather of sparse gradients fixes its shape the first time
it runs inside a while loop, so a later step whose replicas hold a different number of
rows fails ("Shape mismatch in the collective instance"); one step per call costs a
Python round trip per step, as ``model.fit`` without ``steps_per_execution``.
"""

from __future__ import annotations

import contextlib
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
    order and so the numbers unchanged. ``max_steps`` bounds an epoch to ``max_steps``
    batches (``training.steps_per_epoch``); bounded epochs walk on through one shuffled
    order and reshuffle only when fewer than ``max_steps`` batches of it are left, as
    Keras' ``steps_per_epoch`` reads on through a repeated dataset: every rating is
    trained on, and the shuffle (a second per 25M ratings) is paid once per pass, not once
    per bounded epoch.
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
        strategy: Any = None,
        one_step_calls: bool = False,
        max_steps: int | None = None,
        sampler: Any = None,
    ) -> None:
        self.model = model
        self.sampler = sampler  # a NegativeSampler: implicit objectives' negatives per step
        self.draws = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.strategy = strategy
        self.replicas = int(strategy.num_replicas_in_sync) if strategy is not None else 1
        self.one_step_calls = one_step_calls
        self.n = len(y)
        self.batch_size = min(batch_size, self.n)
        self.full_steps = math.ceil(self.n / self.batch_size)
        self.steps = min(self.full_steps, max_steps) if max_steps else self.full_steps
        self.cursor = self.full_steps  # batches of the current order used; full: reshuffle
        self.ratings_per_epoch = min(self.n, self.steps * self.batch_size)
        # The training rows in the current shuffled order: row i is the caller's row order[i].
        self.x = {k: tf.Variable(v, trainable=False) for k, v in x.items()}
        self.y = tf.Variable(y.reshape(-1, 1).astype(np.float32), trainable=False)
        self.shuffle = shuffle
        self.seed = seed
        self.call_seconds = call_seconds
        self.chunk = 1 if one_step_calls else max(1, min(self.steps, 65_536 // self.batch_size))
        self.calls = 0
        self.shuffles = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.order = tf.Variable(tf.range(self.n), trainable=False)
        first = {k: v[: self.batch_size] for k, v in x.items()}
        first_y = y[: self.batch_size].reshape(-1, 1).astype(np.float32)
        if sampler is not None:  # a step's rows: the positives and their negatives' blocks
            blocks = 1 + sampler.negatives
            first = {k: np.tile(v, (blocks, 1)) for k, v in first.items()}
            first_y = np.zeros((blocks * len(first_y), 1), np.float32)
        with strategy.scope() if strategy is not None else contextlib.nullcontext():
            model._symbolic_build(data_batch=(first, first_y))
            if model.optimizer is not None and not model.optimizer.built:
                model.optimizer.build(model.trainable_variables)
        self._new_order = tf.function(self._shuffle_rows)
        self._run_steps = tf.function(self._steps_between, reduce_retracing=True)

    def _shuffle_rows(self) -> Any:
        """A new pass: the rows move in place to a fresh order of the caller's rows (the
        same orders, seed by seed, as when each batch was gathered through them)."""
        if not self.shuffle:
            return tf.constant(0)
        self.shuffles.assign_add(1)
        seed = tf.stack([tf.constant(self.seed, tf.int64), self.shuffles])
        order = tf.random.experimental.stateless_shuffle(tf.range(self.n), seed)
        # Position i takes the caller's row order[i], which now sits at where[order[i]].
        where = tf.math.invert_permutation(self.order.read_value())
        moves = tf.gather(where, order)
        for variable in [self.y, *self.x.values()]:
            # Gather from the value read, not the variable: a gather on a resource variable
            # switches it to copy-on-read, and every step's slice would then copy it whole.
            variable.assign(tf.gather(variable.read_value(), moves))
        self.order.assign(order)
        return tf.constant(0)

    def _steps_between(self, first: Any, last: Any) -> Any:
        n, bs = self.n, self.batch_size
        for step in tf.range(first, last):
            start, stop = step * bs, tf.minimum((step + 1) * bs, n)
            draw = self.draws.assign_add(1) if self.sampler is not None else self.draws
            if self.strategy is None:
                self.model.train_step(self._batch(start, stop, start, stop, draw))
            else:
                self.strategy.run(self._replica_step, args=(start, stop, draw))
        return tf.constant(0)

    def _batch(self, lo: Any, hi: Any, start: Any, stop: Any, draw: Any) -> Any:
        """Rows ``[lo, hi)`` of the current order (contiguous slices, no gather), part of the
        step's global batch ``[start, stop)``; with a sampler, their negatives drawn for the
        global batch (as one device would) make the step's blocks of rows."""
        x = {k: v[lo:hi] for k, v in self.x.items()}
        if self.sampler is None:
            return x, self.y[lo:hi]
        users, items = self.x["user_input"][start:stop], self.x["item_input"][start:stop]
        negative = self.sampler.draw(users, items, draw)[lo - start : hi - start]
        return self.sampler.rows(x, negative)

    def _replica_step(self, start: Any, stop: Any, draw: Any) -> None:
        """One replica's share of the global batch ``[start, stop)`` (under ``strategy.run``)."""
        replica = tf.distribute.get_replica_context().replica_id_in_sync_group
        size = stop - start
        with tf.device("/device:CPU:0"):
            lo = start + size * replica // self.replicas
            hi = start + size * (replica + 1) // self.replicas
            batch = self._batch(lo, hi, start, stop, draw)
        self.model.train_step(batch)

    def run_epoch(self) -> dict[str, float]:
        """One epoch (a pass over the data, or ``max_steps`` batches of one); returns its
        training logs (loss and metrics)."""
        self.model.reset_metrics()
        if self.cursor + self.steps > self.full_steps:
            first_call(self.calls, self._new_order)
            self.cursor = 0
        step, end = self.cursor, self.cursor + self.steps
        self.cursor = end
        while step < end:
            last = min(step + self.chunk, end)
            start = time.perf_counter()
            first_call(self.calls, self._run_steps, tf.constant(step), tf.constant(last))
            self._resize(last - step, time.perf_counter() - start)
            step = last
        return {k: float(v) for k, v in self.model.get_metrics_result().items()}

    def _resize(self, steps: int, seconds: float) -> None:
        """The next chunk: as many steps as fit in ``call_seconds`` at this call's pace."""
        self.calls += 1
        if self.one_step_calls or self.calls == 1 or seconds <= 0:  # the first call traces
            return
        wanted = steps * self.call_seconds / seconds
        self.chunk = int(max(1, min(self.steps, round(wanted))))


def first_call(calls: int, function: Any, *args: Any) -> Any:
    """Call a ``tf.function``; its first call traces it, with Ctrl-C and SIGTERM held back
    until the trace is done (a signal inside Keras' tracing leaves the model half built)."""
    if calls:
        return function(*args)
    from recexp.signals import deferred_signals

    with deferred_signals() as arrived:
        result = function(*args)
    if arrived:
        raise arrived[0]
    return result


class GraphPredictor:
    """``model(x, training=False)`` in large batches, traced once for any batch size (so a
    prediction does not depend on the batch sizes predicted before it)."""

    def __init__(self, model: keras.Model, batch_size: int) -> None:
        self.model = model
        self.batch_size = batch_size
        self._call: Any = None
        self.calls = 0

    def __call__(self, x: dict[str, np.ndarray]) -> np.ndarray:
        n = len(next(iter(x.values())))
        if self._call is None:
            model = self.model
            spec = {k: tf.TensorSpec((None, *v.shape[1:]), v.dtype) for k, v in x.items()}
            self._call = tf.function(lambda x: model(x, training=False), input_signature=[spec])
        out = []
        for start in range(0, n, self.batch_size):
            chunk = {k: v[start : start + self.batch_size] for k, v in x.items()}
            out.append(np.asarray(first_call(self.calls, self._call, chunk)).reshape(-1))
            self.calls += 1
        return np.concatenate(out) if out else np.empty(0, np.float32)
