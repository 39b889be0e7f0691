"""Negative sampling inside the compiled engine's graph, and the implicit objectives' losses
(imports TensorFlow and Keras).

A step's positives are ``B`` (user, item) rows of the engine's shuffled order. The sampler
draws ``N`` negative items for each of them with a stateless generator seeded by the
spec's seed and the step's draw number, so a run repeats exactly, and expands the batch to
``(1 + N) * B`` rows in blocks: block 0 holds the positives, block ``j`` every user's
``j``-th negative (the same user order in every block). The losses read the blocks back
with a reshape to ``(1 + N, B)``; ``y`` carries what each loss needs (bce: the 0/1 labels;
sampled_softmax: ``log Q(item)``, the logQ correction). Under a distribution strategy the
negatives are drawn for the whole global batch and each replica takes its slice, so the
replicas train on exactly the pairs one device would.

Samplers: ``uniform`` over the item vocabulary; ``popularity``: ``count^alpha`` through a
cumulative table and a binary search (``O(log n_items)`` per draw); ``in_batch``: the
batch's other positives (rolled by ``1..N``), popularity-distributed for free. With
``exclude_positives`` a negative that is one of the user's training positives is redrawn
(two rounds; a membership test by binary search in the sorted ``user * n_items + item``
keys), as NCF's sampler rejects them.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from recexp.training.objective_options import ObjectiveOptions

REDRAWS = 2
HIT = 1e9  # added to log Q of an in-batch negative that is the positive itself: no logit


class NegativeSampler:
    """Draws the negatives of a step and builds its ``(1 + N) * B`` rows (see module doc)."""

    def __init__(
        self,
        options: ObjectiveOptions,
        user: np.ndarray,
        item: np.ndarray,
        n_items: int,
        seed: int,
    ) -> None:
        self.options, self.n_items, self.seed = options, int(n_items), int(seed)
        self.negatives = options.negatives
        counts = np.bincount(item, minlength=n_items).astype(np.float64)
        weights = counts**options.alpha if options.sampler == "popularity" else counts
        if options.sampler == "uniform":
            weights = np.ones(n_items)
        q = weights / weights.sum()
        self.log_q = tf.constant(np.log(np.maximum(q, 1e-12)).astype(np.float32))
        self.cdf = tf.constant(np.cumsum(q).astype(np.float32))
        self.keys = None
        if options.exclude_positives and options.sampler != "in_batch":
            keys = np.unique(user.astype(np.int64) * n_items + item.astype(np.int64))
            self.keys = tf.constant(keys)

    def _draw(self, shape: Any, seed: Any) -> Any:
        if self.options.sampler == "uniform":
            return tf.random.stateless_uniform(shape, seed, 0, self.n_items, dtype=tf.int32)
        u = tf.random.stateless_uniform(shape, seed, dtype=tf.float32)
        index = tf.searchsorted(self.cdf, tf.reshape(u, [-1]), side="right", out_type=tf.int32)
        return tf.reshape(tf.minimum(index, self.n_items - 1), shape)

    def _is_positive(self, users: Any, items: Any) -> Any:
        keys = tf.cast(users, tf.int64) * self.n_items + tf.cast(items, tf.int64)
        flat = tf.reshape(keys, [-1])
        at = tf.minimum(tf.searchsorted(self.keys, flat), tf.size(self.keys) - 1)
        return tf.reshape(tf.equal(tf.gather(self.keys, at), flat), tf.shape(keys))

    def draw(self, users: Any, items: Any, step: Any) -> Any:
        """``(G, N)`` negative items for a global batch of ``G`` positives (codes ``(G, 1)``)."""
        n = self.negatives
        if self.options.sampler == "in_batch":
            flat = items[:, 0]
            return tf.stack([tf.roll(flat, shift=j + 1, axis=0) for j in range(n)], axis=1)
        shape = tf.stack([tf.shape(items)[0], n])
        seed = tf.stack([tf.constant(self.seed, tf.int64), tf.cast(step, tf.int64)])
        negative = self._draw(shape, seed)
        if self.keys is not None:
            for round_ in range(REDRAWS):
                again = self._draw(shape, seed + tf.constant([(round_ + 1) << 32, 0], tf.int64))
                negative = tf.where(self._is_positive(users, negative), again, negative)
        return negative

    def rows(self, x: dict[str, Any], negative: Any) -> tuple[dict[str, Any], Any]:
        """The step's batch: positives ``x`` (``(B, 1)`` codes) and their ``(B, N)`` negatives
        as ``(1 + N) * B`` rows in blocks, with the loss's ``y``."""
        n, positive = self.negatives, x["item_input"]
        users = tf.tile(x["user_input"], [1 + n, 1])
        items = tf.concat([positive, tf.reshape(tf.transpose(negative), [-1, 1])], axis=0)
        batch = tf.shape(positive)[0]
        name = self.options.name
        if name == "bce":
            y = tf.concat([tf.ones([batch, 1]), tf.zeros([batch * n, 1])], axis=0)
        elif name == "sampled_softmax":
            y = tf.gather(self.log_q, items)
            if self.options.sampler == "in_batch":  # an accidental hit is not a negative
                hit = tf.equal(items, tf.tile(positive, [1 + n, 1]))
                y += tf.where(hit & (tf.range(tf.shape(items)[0])[:, None] >= batch), HIT, 0.0)
        else:
            y = tf.zeros([batch * (1 + n), 1])
        return {"user_input": users, "item_input": items}, y


@keras.saving.register_keras_serializable(package="recexp")
class BPRLoss(keras.losses.Loss):
    """``softplus(s_neg - s_pos)`` (= ``-log sigmoid(s_pos - s_neg)``) for every negative.

    Args:
        negatives: int. Negatives per positive: ``y_pred`` holds ``1 + negatives`` blocks.
    """

    def __init__(self, negatives: int = 1, name: str = "bpr", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self.negatives = int(negatives)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        s = tf.reshape(tf.cast(y_pred, tf.float32), [1 + self.negatives, -1])
        return tf.reshape(tf.nn.softplus(s[1:] - s[:1]), [-1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "negatives": self.negatives}


@keras.saving.register_keras_serializable(package="recexp")
class SampledSoftmaxLoss(keras.losses.Loss):
    """Cross-entropy of the positive against its negatives, logits ``s - log Q(item)``.

    Args:
        negatives: int. Negatives per positive; ``y_true`` holds each row's ``log Q``.
    """

    def __init__(self, negatives: int = 1, name: str = "sampled_softmax", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self.negatives = int(negatives)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        logits = tf.cast(y_pred, tf.float32) - tf.cast(y_true, tf.float32)
        s = tf.reshape(logits, [1 + self.negatives, -1])
        return -tf.nn.log_softmax(s, axis=0)[0]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "negatives": self.negatives}


def objective_loss(options: ObjectiveOptions) -> Any:
    """The Keras loss an implicit objective compiles with."""
    if options.name == "bce":
        return keras.losses.BinaryCrossentropy(from_logits=True, name="bce")
    if options.name == "bpr":
        return BPRLoss(options.negatives)
    return SampledSoftmaxLoss(options.negatives)
