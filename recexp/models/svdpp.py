"""``svdpp``: SVD++ (Koren 2008), biased MF plus the user's implicit feedback.

``r_hat(u, i) = mu + b_u + b_i + q_i . (p_u + |N(u)|^-1/2 sum_{j in N(u)} y_j)``, N(u) =
the items u rated in train (taken from :class:`recexp.data.rating_vectors.RatingVectors`,
stored inside the model). Per-rating L2 on the looked-up rows only (gradients stay sparse,
so ``lazy_adam`` / ``sparse_adagrad`` update only the rows of the batch).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, NonNegativeFloat, PositiveFloat, PositiveInt

from recexp.data.rating_vectors import RatingVectors
from recexp.models._accuracy_common import (
    current_lr,
    optimizer_label,
    rating_range,
    read_meta,
    write_meta,
)
from recexp.models._protocol_stub import (
    EpochListener,
    FitResult,
    ModelSummary,
    Recommender,
    TrainData,
)
from recexp.models.base import MODELS, BuildContext, ModelOptions


class SVDppOptions(ModelOptions):
    """SVD++: MF whose user vector adds the normalised sum of the rated items' y_j."""

    family: Literal["svdpp"] = "svdpp"
    dim: PositiveInt = Field(20, description="factors (Surprise SVDpp: 20)")
    l2: NonNegativeFloat = Field(0.02, description="per-rating L2 on p_u and q_i")
    implicit_l2: NonNegativeFloat | None = Field(
        None, description="per-rating L2 on every y_j, j in N(u) (None = l2, as Koren)"
    )
    bias_l2: NonNegativeFloat = Field(0.02, description="per-rating L2 on b_u and b_i")
    init_std: PositiveFloat = Field(0.1, description="normal init std of p, q, y (Surprise: 0.1)")
    batch_size: PositiveInt | None = Field(None, description="None = training.batch_size")


class SVDppRecommender(Recommender):
    """Implements the Recommender protocol for ``svdpp``."""

    def __init__(self, options: SVDppOptions, n_users: int = 0, n_items: int = 0) -> None:
        self.options = options
        self.n_users, self.n_items = n_users, n_items
        self.model: Any = None
        self.optimizer_label = ""

    def _build(self, nnz: int, global_mean: float) -> None:
        from recexp.models.layers_svdpp import SVDpp

        o = self.options
        implicit_l2 = o.l2 if o.implicit_l2 is None else o.implicit_l2
        self.model = SVDpp(
            self.n_users,
            self.n_items,
            o.dim,
            nnz,
            global_mean,
            o.l2,
            implicit_l2,
            o.bias_l2,
            o.init_std,
            name="svdpp",
        )
        self.model.build()

    def fit(self, data: TrainData, listeners: Sequence[EpochListener] = ()) -> FitResult:
        import keras
        import tensorflow as tf

        from recexp.models._accuracy_fit import EpochLoop, errors
        from recexp.optim import make_optimizer

        o = self.options
        keras.utils.set_random_seed(data.seed)
        self.n_users, self.n_items = data.n_users, data.n_items
        nu = RatingVectors.build(
            data.user, data.item, data.rating, data.n_users, data.n_items, by="user"
        )
        self._build(nu.nnz, float(np.mean(data.rating)) if len(data.rating) else 0.0)
        model = self.model
        model.implicit.set_neighbourhood(nu.indptr, nu.indices)
        optimizer = make_optimizer(data.optimizer)
        self.optimizer_label = optimizer_label(data.optimizer)
        weights = model.trainable_variables
        optimizer.build(weights)

        n = len(data.rating)
        batch_size = data.options.batch_size if o.batch_size is None else o.batch_size
        batch = n if batch_size == "full" else min(int(batch_size), n)
        steps = math.ceil(n / batch)
        user_t = tf.constant(data.user.astype(np.int32))
        item_t = tf.constant(data.item.astype(np.int32))
        rating_t = tf.constant(data.rating.astype(np.float32))
        counter = tf.Variable(0, dtype=tf.int64, trainable=False)

        @tf.function(reduce_retracing=True)
        def run_epoch() -> Any:
            counter.assign_add(1)
            order = tf.range(n)
            if data.options.shuffle:
                seed = tf.stack([tf.constant(data.seed, tf.int64), counter])
                order = tf.random.experimental.stateless_shuffle(order, seed)
            total_loss = tf.constant(0.0)
            total_sq = tf.constant(0.0)
            for step in tf.range(steps):
                idx = order[step * batch : tf.minimum((step + 1) * batch, n)]
                x = {"user_input": tf.gather(user_t, idx), "item_input": tf.gather(item_t, idx)}
                r = tf.gather(rating_t, idx)
                with tf.GradientTape() as tape:
                    score, penalty = model.terms(x)
                    sq = tf.square(r - score)
                    loss = tf.reduce_mean(sq + penalty)
                grads = tape.gradient(loss, weights)
                optimizer.apply_gradients(zip(grads, weights, strict=True))
                size = tf.cast(tf.shape(idx)[0], tf.float32)
                total_loss += loss * size
                total_sq += tf.reduce_sum(sq)
            return total_loss / n, tf.sqrt(total_sq / n)

        lo, hi = rating_range(data.rating)

        def epoch(_: int) -> dict[str, float]:
            loss, rmse = run_epoch()
            return {
                "loss": float(loss),
                "rmse": float(rmse),
                "learning_rate": current_lr(optimizer),
            }

        def validate() -> tuple[float, float]:
            return errors(self.predict(data.val_user, data.val_item), data.val_rating, lo, hi)

        loop = EpochLoop(listeners, data.options.early_stopping, n)
        return loop.run(
            data.options.max_epochs,
            epoch,
            validate,
            lambda: [np.array(w) for w in model.get_weights()],
            model.set_weights,
        )

    def _predict_fn(self) -> Any:
        import tensorflow as tf

        if getattr(self, "_predict", None) is None:
            model = self.model
            self._predict = tf.function(lambda x: model.terms(x)[0], reduce_retracing=True)
        return self._predict

    def predict(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        assert self.model is not None, "fit or load first"
        call = self._predict_fn()
        out = []
        for start in range(0, len(user), 65_536):
            x = {
                "user_input": np.asarray(user[start : start + 65_536], np.int32),
                "item_input": np.asarray(item[start : start + 65_536], np.int32),
            }
            out.append(np.asarray(call(x)))
        return np.concatenate(out).astype(np.float32) if out else np.empty(0, np.float32)

    def save(self, directory: Path) -> None:
        assert self.model is not None
        directory = Path(directory)
        write_meta(
            directory,
            self.options,
            n_users=self.n_users,
            n_items=self.n_items,
            nnz=self.model.nnz,
            global_mean=self.model.global_mean,
            optimizer_label=self.optimizer_label,
        )
        self.model.save_weights(directory / "model.weights.h5")

    @classmethod
    def load(cls, directory: Path) -> SVDppRecommender:
        meta = read_meta(directory)
        self = cls(SVDppOptions(**meta["options"]), meta["n_users"], meta["n_items"])
        self.optimizer_label = meta["optimizer_label"]
        self._build(meta["nnz"], meta["global_mean"])
        self.model.load_weights(Path(directory) / "model.weights.h5")
        return self

    def summary(self) -> ModelSummary:
        params = (
            int(sum(np.prod(w.shape) for w in self.model.trainable_weights)) if self.model else 0
        )
        o = self.options
        return ModelSummary(
            f"SVD++ dim {o.dim}: {params:,} trainable params", {"params": params, "dim": o.dim}
        )


@MODELS.register("svdpp", options=SVDppOptions, help="SVD++ with implicit feedback (Koren 2008)")
def build_svdpp(options: SVDppOptions, ctx: BuildContext) -> SVDppRecommender:
    """A Recommender (not a keras.Model): the redesign's registry returns Recommenders."""
    return SVDppRecommender(options, ctx.n_users, ctx.n_items)
