"""``autorec``: I-AutoRec / U-AutoRec (Sedhain et al. 2015), one hidden layer, masked loss.

Item-based (the paper's better variant): each item's vector of user ratings (zeros where
unobserved) is encoded and reconstructed; the loss counts observed entries only. The
prediction for (u, i) reads item i's reconstructed vector at u. User-based swaps the
roles. Rows come from :class:`recexp.data.rating_vectors.RatingVectors`; a batch of rows
is made dense inside the graph (never the whole matrix).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, NonNegativeFloat, PositiveInt

from recexp.data.rating_vectors import RatingVectors
from recexp.models._protocol_stub import (
    EpochListener,
    FitResult,
    ModelSummary,
    Recommender,
    TrainData,
)
from recexp.models.base import MODELS, BuildContext, ModelOptions


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


class AutoRecRecommender(Recommender):
    """Implements the Recommender protocol (fit / predict / save / load) for ``autorec``."""

    def __init__(self, options: AutoRecOptions, n_users: int = 0, n_items: int = 0) -> None:
        self.options = options
        self.n_users, self.n_items = n_users, n_items
        self.model: Any = None
        self.vectors: RatingVectors | None = None
        self.optimizer_label = ""

    # -- building ----------------------------------------------------------------------
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

    # -- protocol ----------------------------------------------------------------------
    def fit(self, data: TrainData, listeners: Sequence[EpochListener] = ()) -> FitResult:
        import keras
        import tensorflow as tf

        from recexp.models._accuracy_fit import EpochLoop, errors
        from recexp.models.layers_autorec import masked_squared_error
        from recexp.optim import make_optimizer

        o = self.options
        keras.utils.set_random_seed(data.seed)
        self.n_users, self.n_items = data.n_users, data.n_items
        self.vectors = RatingVectors.build(
            data.user, data.item, data.rating, data.n_users, data.n_items, by=o.kind
        )
        self._build()
        layer = self.layer
        optimizer = make_optimizer(data.optimizer)
        self.optimizer_label = f"{data.optimizer.name} lr={data.optimizer.learning_rate:g}"
        v = self.vectors
        csr = (tf.constant(v.indptr), tf.constant(v.indices), tf.constant(v.values))
        n_rows, n_cols = v.n_rows, v.n_cols
        # rows with no ratings teach nothing: train on the observed rows only
        train_rows = np.flatnonzero(v.lengths() > 0).astype(np.int64)
        batch = min(o.batch_rows, len(train_rows))
        steps = math.ceil(len(train_rows) / batch)
        rows_t = tf.constant(train_rows)
        weights = layer.trainable_variables
        optimizer.build(weights)
        seed = tf.Variable(0, dtype=tf.int64, trainable=False)

        @tf.function(reduce_retracing=True)
        def run_epoch() -> Any:
            seed.assign_add(1)
            order = tf.random.experimental.stateless_shuffle(
                rows_t, tf.stack([tf.constant(data.seed, tf.int64), seed])
            )
            total_loss = tf.constant(0.0)
            total_sq = tf.constant(0.0)
            total_n = tf.constant(0.0)
            for step in tf.range(steps):
                rows = order[step * batch : tf.minimum((step + 1) * batch, len(train_rows))]
                ratings, mask = _dense_rows(csr, rows, n_cols)
                with tf.GradientTape() as tape:
                    sq = masked_squared_error(ratings, layer(ratings), mask)
                    size = tf.cast(tf.shape(rows)[0], tf.float32)
                    loss = sq / size + layer.l2_penalty() / n_rows
                grads = tape.gradient(loss, weights)
                optimizer.apply_gradients(zip(grads, weights, strict=True))
                total_loss += loss * size
                total_sq += sq
                total_n += tf.reduce_sum(mask)
            return total_loss / len(train_rows), tf.sqrt(total_sq / total_n)

        lo = float(np.min(data.rating)) if len(data.rating) else -np.inf
        hi = float(np.max(data.rating)) if len(data.rating) else np.inf

        def epoch(_: int) -> dict[str, float]:
            loss, rmse = run_epoch()
            lr = optimizer.learning_rate
            return {
                "loss": float(loss),
                "rmse": float(rmse),
                "learning_rate": float(np.asarray(lr)),
            }

        def validate() -> tuple[float, float]:
            return errors(self.predict(data.val_user, data.val_item), data.val_rating, lo, hi)

        loop = EpochLoop(listeners, data.options.early_stopping, len(data.rating))
        return loop.run(
            data.options.max_epochs,
            epoch,
            validate,
            lambda: [np.array(w) for w in self.model.get_weights()],
            self.model.set_weights,
        )

    def predict(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        """Reconstruct each queried row once (in chunks) and read it at the queried column."""
        assert self.vectors is not None and self.model is not None, "fit or load first"
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

    def save(self, directory: Path) -> None:
        assert self.vectors is not None and self.model is not None
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.model.save(directory / "model.keras")
        self.vectors.save(directory / "rating_vectors.npz")
        meta = {
            "options": self.options.model_dump(),
            "n_users": self.n_users,
            "n_items": self.n_items,
            "optimizer_label": self.optimizer_label,
        }
        (directory / "recommender.json").write_text(json.dumps(meta, indent=2))

    @classmethod
    def load(cls, directory: Path) -> AutoRecRecommender:
        import keras

        from recexp.models import layers_autorec  # noqa: F401  (registers AutoRec)

        directory = Path(directory)
        meta = json.loads((directory / "recommender.json").read_text())
        self = cls(AutoRecOptions(**meta["options"]), meta["n_users"], meta["n_items"])
        self.optimizer_label = meta["optimizer_label"]
        self.model = keras.saving.load_model(directory / "model.keras", compile=False)
        self.vectors = RatingVectors.load(directory / "rating_vectors.npz")
        return self

    def summary(self) -> ModelSummary:
        params = int(self.model.count_params()) if self.model is not None else 0
        o = self.options
        text = (
            f"{o.kind}-based AutoRec: {o.hidden} hidden ({o.hidden_activation}), {params:,} params"
        )
        return ModelSummary(text, {"params": params, "kind": o.kind, "hidden": o.hidden})


@MODELS.register("autorec", options=AutoRecOptions, help="I-/U-AutoRec (Sedhain et al. 2015)")
def build_autorec(options: AutoRecOptions, ctx: BuildContext) -> AutoRecRecommender:
    """A Recommender (not a keras.Model): the redesign's registry returns Recommenders."""
    return AutoRecRecommender(options, ctx.n_users, ctx.n_items)
