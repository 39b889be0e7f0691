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
    AccuracyRecommender,
    current_lr,
    own_loop_unsupported,
    save_atomically,
)
from recexp.models.base import MODELS, BuildContext, ModelOptions
from recexp.models.protocol import ModelSummary, Recommender
from recexp.runs import MODEL_WEIGHTS
from recexp.training.events import EpochListener, FitResult, TrainData


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

    def unsupported(self, config: Any) -> tuple[str, str, Any] | None:
        return own_loop_unsupported(config, zeros_unobserved=False)


class SVDppRecommender(AccuracyRecommender):
    """``svdpp`` behind the Recommender interface. N(u) lives inside the model (two int
    weights), so the model is rebuilt at fit time once the train rows are known."""

    options_class = SVDppOptions
    options: SVDppOptions

    def __init__(
        self,
        options: SVDppOptions,
        n_users: int,
        n_items: int,
        rating_range: tuple[float, float] = (-np.inf, np.inf),
        global_mean: float = 0.0,
    ) -> None:
        super().__init__(options, n_users, n_items, rating_range)
        self._predict: Any = None
        self._build(0, global_mean)

    @classmethod
    def from_context(cls, options: Any, ctx: BuildContext) -> Any:
        return cls(options, ctx.n_users, ctx.n_items, (ctx.rating_min, ctx.rating_max),
                   ctx.global_mean)  # fmt: skip

    def _build(self, nnz: int, global_mean: float) -> None:
        from recexp.models.layers_svdpp import SVDpp

        o = self.options
        implicit_l2 = o.l2 if o.implicit_l2 is None else o.implicit_l2
        self.model = SVDpp(
            self.n_users, self.n_items, o.dim, nnz, global_mean, o.l2, implicit_l2, o.bias_l2,
            o.init_std, name="svdpp",
        )  # fmt: skip
        self.model.build()
        self._predict = None

    def fit(self, data: TrainData, listeners: Sequence[EpochListener]) -> FitResult:
        import keras

        from recexp.models._accuracy_fit import epoch_logs
        from recexp.training.optimizers import make_optimizer

        keras.utils.set_random_seed(data.seed)
        nu = RatingVectors.build(
            data.user, data.item, data.rating, self.n_users, self.n_items, by="user"
        )
        self._build(nu.nnz, float(np.mean(data.rating)) if len(data.rating) else 0.0)
        self.model.implicit.set_neighbourhood(nu.indptr, nu.indices)
        optimizer = make_optimizer(data.optimizer)
        run_epoch = self._epoch_function(optimizer, data)

        def epoch(_: int) -> dict[str, Any]:
            loss, sq, absolute = (float(v) for v in run_epoch())
            return epoch_logs(loss, sq, absolute, len(data), current_lr(optimizer))

        return self.run_epochs(listeners, data, epoch)

    def _epoch_function(self, optimizer: Any, data: TrainData) -> Any:
        """One (shuffled) pass over the train ratings in one graph call: (loss, sq, abs)."""
        import tensorflow as tf

        model, o = self.model, self.options
        weights = model.trainable_variables
        optimizer.build(weights)
        n = len(data)
        batch_size = data.options.batch_size if o.batch_size is None else o.batch_size
        batch = max(n if batch_size == "full" else min(int(batch_size), n), 1)
        steps = math.ceil(n / batch)
        user_t = tf.constant(data.user.astype(np.int32))
        item_t = tf.constant(data.item.astype(np.int32))
        rating_t = tf.constant(data.rating.astype(np.float32))
        counter = tf.Variable(0, dtype=tf.int64, trainable=False)
        shuffle, seed = data.options.shuffle, data.seed

        @tf.function(reduce_retracing=True)
        def run_epoch() -> Any:
            counter.assign_add(1)
            order = tf.range(n)
            if shuffle:
                order = tf.random.experimental.stateless_shuffle(
                    order, tf.stack([tf.constant(seed, tf.int64), counter])
                )
            total = [tf.constant(0.0) for _ in range(3)]  # loss, squared, absolute
            for step in tf.range(steps):
                idx = order[step * batch : tf.minimum((step + 1) * batch, n)]
                x = {"user_input": tf.gather(user_t, idx), "item_input": tf.gather(item_t, idx)}
                err = tf.gather(rating_t, idx)
                with tf.GradientTape() as tape:
                    score, penalty = model.terms(x)
                    err = err - score
                    loss = tf.reduce_mean(tf.square(err) + penalty)
                grads = tape.gradient(loss, weights)
                optimizer.apply_gradients(zip(grads, weights, strict=True))
                size = tf.cast(tf.shape(idx)[0], tf.float32)
                parts = (loss * size, tf.reduce_sum(tf.square(err)), tf.reduce_sum(tf.abs(err)))
                total = [t + p for t, p in zip(total, parts, strict=True)]
            return total[0] / max(n, 1), total[1], total[2]

        return run_epoch

    def predict(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        if self._predict is None:  # one graph for every batch size: the same numbers always
            model = self.model
            spec = tf.TensorSpec([None], tf.int32)
            self._predict = tf.function(
                lambda x: model.terms(x)[0],
                input_signature=[{"user_input": spec, "item_input": spec}],
            )
        out = []
        for start in range(0, len(user), 65_536):
            x = {
                "user_input": np.asarray(user[start : start + 65_536], np.int32),
                "item_input": np.asarray(item[start : start + 65_536], np.int32),
            }
            out.append(np.asarray(self._predict(x)))
        return np.concatenate(out).astype(np.float32) if out else np.empty(0, np.float32)

    def save_files(self, directory: Path) -> None:
        save_atomically(directory, MODEL_WEIGHTS, self.model.save_weights)
        self.write_options(directory, nnz=self.model.nnz, global_mean=self.model.global_mean)

    @classmethod
    def load_files(cls, directory: Path) -> Recommender:
        self, meta = cls.from_saved(directory)
        self._build(meta["nnz"], meta["global_mean"])
        self.load_saved_weights(directory)
        return self

    def summary(self) -> ModelSummary:
        """Trainable parameters only: N(u) (two int arrays inside the model) is data."""
        o, nu, ni = self.options, self.n_users, self.n_items
        tables = {"user_embedding": nu * o.dim, "item_embedding": ni * o.dim,
                  "implicit_embedding": ni * o.dim, "user_bias": nu, "item_bias": ni}  # fmt: skip
        params = sum(tables.values())
        text = "\n".join(f"{name:<20} {count:>12,}" for name, count in tables.items())
        text = f"Model: 'svdpp' (SVD++, dim {o.dim})\n{text}\n Total params: {params:,}"
        layers = [{"name": k, "class": "table", "output_shape": None, "params": v}
                  for k, v in tables.items()]  # fmt: skip
        return ModelSummary(text, params, params, layers=layers, name="svdpp")


@MODELS.register("svdpp", options=SVDppOptions, help="SVD++ with implicit feedback (Koren 2008)")
def build_svdpp(options: SVDppOptions, ctx: BuildContext) -> Recommender:
    """A Recommender of its own (N(u) is built from the train rows at fit time)."""
    return SVDppRecommender.from_context(options, ctx)
