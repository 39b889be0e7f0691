"""``autorec``: I-AutoRec / U-AutoRec (Sedhain et al. 2015), one hidden layer, masked loss.

Item-based (the paper's better variant): each item's vector of user ratings (zeros where
unobserved) is encoded and reconstructed; the loss counts observed entries only. The
prediction for (u, i) reads item i's reconstructed vector at u. User-based swaps the
roles. Rows come from :class:`recexp.data.rating_vectors.RatingVectors`; a batch of rows
is made dense inside the graph (never the whole matrix).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, NonNegativeFloat, PositiveInt

from recexp.data.rating_vectors import RatingVectors
from recexp.models._accuracy_common import (
    AccuracyRecommender,
    current_lr,
    own_loop_unsupported,
    save_atomically,
)
from recexp.models.base import MODELS, BuildContext, ModelOptions
from recexp.models.protocol import ModelSummary, Recommender
from recexp.runs import MODEL_WEIGHTS, RATING_VECTORS
from recexp.training.events import EpochListener, FitResult, TrainData


class AutoRecOptions(ModelOptions):
    """AutoRec: ``h(r) = f(V g(W r + b) + c)`` trained on observed entries only."""

    family: Literal["autorec"] = "autorec"
    kind: Literal["item", "user"] = Field(
        "item", description="I-AutoRec (item vectors) or U-AutoRec"
    )
    hidden: PositiveInt = Field(500, description="hidden units (the paper: 500)")
    hidden_activation: Literal["sigmoid", "linear", "relu", "tanh", "elu"] = "sigmoid"
    output_activation: Literal["linear", "sigmoid", "relu"] = Field(
        "linear", description="linear = the paper's identity"
    )
    l2: NonNegativeFloat = Field(
        1.0, description="lambda of lambda/2 (||W||^2 + ||V||^2) on the summed squared error"
    )
    batch_rows: PositiveInt = Field(64, description="rating vectors (items or users) per step")

    def unsupported(self, config: Any) -> tuple[str, str, Any] | None:
        return own_loop_unsupported(config, zeros_unobserved=True)


def _dense_rows(vectors: Any, rows: Any, n_cols: int) -> tuple[Any, Any]:
    """In-graph dense (B, n_cols) ratings and mask of ``rows`` from CSR tensors."""
    import tensorflow as tf

    indptr, indices, values = vectors
    starts = tf.gather(indptr, rows)
    lengths = tf.gather(indptr, rows + 1) - starts
    ragged = tf.ragged.range(starts, starts + lengths)
    pos = ragged.flat_values
    batch_row = tf.cast(ragged.value_rowids(), tf.int32)
    cols = tf.gather(indices, pos)
    where = tf.stack([batch_row, cols], axis=1)
    shape = tf.stack([tf.shape(rows)[0], n_cols])
    ratings = tf.scatter_nd(where, tf.gather(values, pos), shape)
    mask = tf.scatter_nd(where, tf.ones_like(pos, tf.float32), shape)
    return ratings, mask


class AutoRecRecommender(AccuracyRecommender):
    """``autorec`` behind the Recommender interface: the model, and the train rating rows
    it reconstructs (saved beside the weights)."""

    options_class = AutoRecOptions
    options: AutoRecOptions

    def __init__(self, options: AutoRecOptions, *args: Any) -> None:
        super().__init__(options, *args)
        self.vectors: RatingVectors | None = None
        self._build()

    def _build(self) -> None:
        import keras

        from recexp.models.layers_autorec import AutoRec

        o = self.options
        n_cols = self.n_users if o.kind == "item" else self.n_items
        x = keras.Input(shape=(n_cols,), name="rating_vector")
        out = AutoRec(
            n_cols, o.hidden, o.hidden_activation, o.output_activation, o.l2, name="autorec"
        )(x)
        self.model = keras.Model(x, out, name=f"{o.kind[0]}_autorec")

    @property
    def layer(self) -> Any:
        return self.model.get_layer("autorec")

    def _rows_cols(self, user: np.ndarray, item: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (item, user) if self.options.kind == "item" else (user, item)

    def fit(self, data: TrainData, listeners: Sequence[EpochListener]) -> FitResult:
        from recexp.training.optimizers import make_optimizer

        self.vectors = RatingVectors.build(
            data.user, data.item, data.rating, self.n_users, self.n_items, by=self.options.kind
        )
        optimizer = make_optimizer(data.optimizer)
        run_epoch = self._epoch_function(optimizer, data.seed)

        def epoch(_: int) -> dict[str, Any]:
            from recexp.models._accuracy_fit import epoch_logs

            loss, sq, absolute, observed = (float(v) for v in run_epoch())
            return epoch_logs(loss, sq, absolute, observed, current_lr(optimizer))

        return self.run_epochs(listeners, data, epoch)

    def _epoch_function(self, optimizer: Any, seed: int) -> Any:
        """One shuffled pass over the observed rows, in one graph call: (loss, sq, abs, n)."""
        import tensorflow as tf

        from recexp.models.layers_autorec import masked_squared_error

        assert self.vectors is not None
        v, layer = self.vectors, self.layer
        csr = (tf.constant(v.indptr), tf.constant(v.indices), tf.constant(v.values))
        n_rows, n_cols = v.n_rows, v.n_cols
        # rows with no ratings teach nothing: train on the observed rows only
        train_rows = np.flatnonzero(v.lengths() > 0).astype(np.int64)
        n_train_rows = max(len(train_rows), 1)
        batch = max(min(self.options.batch_rows, len(train_rows)), 1)
        steps = math.ceil(len(train_rows) / batch)
        rows_t = tf.constant(train_rows)
        weights = layer.trainable_variables
        optimizer.build(weights)
        counter = tf.Variable(0, dtype=tf.int64, trainable=False)

        @tf.function(reduce_retracing=True)
        def run_epoch() -> Any:
            counter.assign_add(1)
            order = tf.random.experimental.stateless_shuffle(
                rows_t, tf.stack([tf.constant(seed, tf.int64), counter])
            )
            total = [tf.constant(0.0) for _ in range(4)]  # loss, squared, absolute, observed
            for step in tf.range(steps):
                rows = order[step * batch : tf.minimum((step + 1) * batch, len(train_rows))]
                ratings, mask = _dense_rows(csr, rows, n_cols)
                with tf.GradientTape() as tape:
                    recon = layer(ratings)
                    sq = masked_squared_error(ratings, recon, mask)
                    size = tf.cast(tf.shape(rows)[0], tf.float32)
                    loss = sq / size + layer.l2_penalty() / n_rows
                grads = tape.gradient(loss, weights)
                optimizer.apply_gradients(zip(grads, weights, strict=True))
                absolute = tf.reduce_sum(tf.abs((ratings - recon) * mask))
                parts = (loss * size, sq, absolute, tf.reduce_sum(mask))
                total = [t + p for t, p in zip(total, parts, strict=True)]
            return total[0] / n_train_rows, total[1], total[2], total[3]

        return run_epoch

    def predict(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        """Reconstruct each queried row once (in chunks) and read it at the queried column."""
        assert self.vectors is not None, "fit or load first"
        rows, cols = self._rows_cols(np.asarray(user), np.asarray(item))
        out = np.empty(len(rows), np.float32)
        if len(rows) == 0:
            return out
        unique, inverse = np.unique(rows, return_inverse=True)
        chunk = max(1, (1 << 24) // max(self.vectors.n_cols, 1))
        for start in range(0, len(unique), chunk):
            part = unique[start : start + chunk]
            dense, _ = self.vectors.dense(part)
            recon = np.asarray(self.model(dense, training=False))
            sel = (inverse >= start) & (inverse < start + len(part))
            out[sel] = recon[inverse[sel] - start, cols[sel]]
        return out

    def save_files(self, directory: Path) -> None:
        assert self.vectors is not None, "fit first"
        vectors = self.vectors
        save_atomically(directory, MODEL_WEIGHTS, self.model.save_weights)
        save_atomically(directory, RATING_VECTORS, vectors.save)
        self.write_options(directory)

    @classmethod
    def load_files(cls, directory: Path) -> Recommender:
        self, _ = cls.from_saved(directory)
        self.load_saved_weights(directory, vectors=True)
        return self

    def summary(self) -> ModelSummary:
        from recexp.models.keras_model import keras_summary

        summary = keras_summary(self.model)
        o = self.options
        summary.text += f"\n{o.kind}-based AutoRec: {o.hidden} hidden ({o.hidden_activation})"
        return summary


@MODELS.register("autorec", options=AutoRecOptions, help="I-/U-AutoRec (Sedhain et al. 2015)")
def build_autorec(options: AutoRecOptions, ctx: BuildContext) -> Recommender:
    """A Recommender of its own (it trains on rating vectors, not on (user, item) pairs)."""
    return AutoRecRecommender.from_context(options, ctx)
