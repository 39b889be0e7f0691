"""``glocal_k``: GLocal-K (Han et al. 2021, repo usydnlp/Glocal_K), in Keras 3.

An item-based autoencoder whose dense layers are sparsified by a learned local kernel
(:class:`~recexp.models.layers_glocal_k.LocalKernelDense`), pre-trained on the observed
entries of the rating matrix; then fine-tuned with the rating matrix convolved by a
global kernel (made from the pre-trained reconstruction). As in the repo, training is
full-batch L-BFGS-B (scipy): each "epoch" is one L-BFGS-B run of ``iter_p`` (pre-training)
or ``iter_f`` (fine-tuning) iterations, restarted from the current weights; the loss is
``1/2 sum of squared errors on observed entries + penalties``. ``optimizer: adam`` is an
approximation (full-batch Adam steps, ``iter_*`` steps per epoch, training.optimizer's lr).

Differences from the repo: the best fine-tuning epoch is chosen on the validation part
(the repo reports the best epoch on test); rows are the train items only (items seen
only in test get the fallback); the dense (n_items, n_users) matrix is held in memory
(it is a full-batch method: refuses more than ``max_cells`` cells).
"""

from __future__ import annotations

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


class GLocalKOptions(ModelOptions):
    """GLocal-K; defaults are the repo's ML-100K settings."""

    family: Literal["glocal_k"] = "glocal_k"
    n_hid: PositiveInt = Field(500, description="hidden units per local-kernel layer")
    n_dim: PositiveInt = Field(5, description="dimension of the local kernel's points")
    n_layers: PositiveInt = Field(2, description="hidden local-kernel layers")
    lambda_2: NonNegativeFloat = Field(20.0, description="L2 on the layers' W")
    lambda_s: NonNegativeFloat = Field(0.006, description="L2 on the local kernels (sparsity)")
    gk_size: PositiveInt = Field(3, description="global convolution kernel size")
    dot_scale: PositiveFloat = Field(1.0, description="scale of the global kernel's dot product")
    pre_epochs: PositiveInt = Field(30, description="pre-training epochs (repo epoch_p)")
    fine_epochs: PositiveInt = Field(60, description="fine-tuning epochs, at most (repo epoch_f)")
    iter_p: PositiveInt = Field(5, description="optimizer iterations per pre-training epoch")
    iter_f: PositiveInt = Field(5, description="optimizer iterations per fine-tuning epoch")
    optimizer: Literal["lbfgs", "adam"] = Field(
        "lbfgs", description="lbfgs = scipy L-BFGS-B as the repo (maxcor 10); adam = approximation"
    )
    max_cells: PositiveInt = Field(200_000_000, description="refuse larger n_items x n_users")


class GLocalKRecommender(Recommender):
    """Implements the Recommender protocol for ``glocal_k``."""

    def __init__(self, options: GLocalKOptions, n_users: int = 0, n_items: int = 0) -> None:
        self.options = options
        self.n_users, self.n_items = n_users, n_items
        self.model: Any = None
        self.vectors: RatingVectors | None = None
        self.stage = "pre"
        self._matrix: np.ndarray | None = None  # cached predictions (n_items, n_users)
        self.optimizer_label = ""

    def _build(self) -> None:
        from recexp.models.layers_glocal_k import GLocalK

        o = self.options
        self.model = GLocalK(
            self.n_users,
            self.n_items,
            o.n_hid,
            o.n_dim,
            o.n_layers,
            o.lambda_s,
            o.lambda_2,
            o.gk_size,
            o.dot_scale,
            name="glocal_k",
        )
        self.model.build()

    def _ratings(self) -> np.ndarray:
        assert self.vectors is not None
        return self.vectors.to_dense()[0]

    def prediction_matrix(self) -> np.ndarray:
        """Predictions for every (item, user) of the train matrix, computed once."""
        if self._matrix is None:
            import tensorflow as tf

            r = tf.constant(self._ratings())
            out = self.model.fine(r) if self.stage == "fine" else self.model.local(r)
            self._matrix = np.asarray(out)
        return self._matrix

    def fit(self, data: TrainData, listeners: Sequence[EpochListener] = ()) -> FitResult:
        import keras
        import tensorflow as tf

        from recexp.models._accuracy_fit import EpochLoop, errors

        o = self.options
        if data.n_users * data.n_items > o.max_cells:
            raise ValueError(
                f"glocal_k is full-batch: {data.n_items} x {data.n_users} cells exceed max_cells"
            )
        keras.utils.set_random_seed(data.seed)
        self.n_users, self.n_items = data.n_users, data.n_items
        self.vectors = RatingVectors.build(
            data.user, data.item, data.rating, data.n_users, data.n_items, by="item"
        )
        self._build()
        model = self.model
        ratings_np, mask_np = self.vectors.to_dense()
        ratings, mask = tf.constant(ratings_np), tf.constant(mask_np)
        lo, hi = rating_range(data.rating)

        def objective(stage: str) -> Any:
            def loss() -> Any:
                pred = model.fine(ratings) if stage == "fine" else model.local(ratings)
                sq = tf.reduce_sum(tf.square(mask * (ratings - pred)))
                return 0.5 * sq + model.penalty(), sq

            return loss

        def variables(stage: str) -> list[Any]:
            local = model.local_variables()
            return local + model.global_kernel.trainable_weights if stage == "fine" else local

        def validate() -> tuple[float, float]:
            self._matrix = None
            return errors(self.predict(data.val_user, data.val_item), data.val_rating, lo, hi)

        n_obs = float(mask_np.sum())
        loop = EpochLoop(listeners, data.options.early_stopping, len(data.rating))
        get_state = lambda: [np.array(w) for w in model.get_weights()]  # noqa: E731
        for stage, epochs, iters in (
            ("pre", o.pre_epochs, o.iter_p),
            ("fine", o.fine_epochs, o.iter_f),
        ):
            self.stage = stage
            step = self._lbfgs_epoch if o.optimizer == "lbfgs" else self._adam_epoch(data)
            run = step(objective(stage), variables(stage), iters, n_obs)
            loop.run(epochs, run, validate, get_state, self._set_weights, select=stage == "fine")
            if loop.halted:
                break
        self._matrix = None
        self.optimizer_label = (
            f"L-BFGS-B (scipy) {o.iter_p}/{o.iter_f} iterations per epoch"
            if o.optimizer == "lbfgs"
            else f"full-batch {optimizer_label(data.optimizer)}"
        )
        return loop.result

    def _set_weights(self, weights: list[np.ndarray]) -> None:
        self.model.set_weights(weights)
        self._matrix = None

    @staticmethod
    def _lbfgs_epoch(objective: Any, variables: list[Any], iters: int, n_obs: float) -> Any:
        import tensorflow as tf
        from scipy.optimize import minimize

        shapes = [tuple(v.shape) for v in variables]
        sizes = [int(np.prod(s)) for s in shapes]

        @tf.function
        def value_and_grad(flat: Any) -> Any:
            for v, part, shape in zip(variables, tf.split(flat, sizes), shapes, strict=True):
                v.assign(tf.reshape(part, shape))
            with tf.GradientTape() as tape:
                loss, sq = objective()
            grads = tape.gradient(loss, variables)
            return loss, sq, tf.concat([tf.reshape(g, [-1]) for g in grads], 0)

        last: dict[str, float] = {}

        def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
            loss, sq, grad = value_and_grad(tf.constant(x, tf.float32))
            last["loss"], last["sq"] = float(loss), float(sq)
            return float(loss), np.asarray(grad, np.float64)

        def epoch(_: int) -> dict[str, float]:
            x0 = np.concatenate([np.asarray(v).reshape(-1) for v in variables]).astype(np.float64)
            res = minimize(
                fun, x0, jac=True, method="L-BFGS-B", options={"maxiter": iters, "maxcor": 10}
            )
            fun(res.x)  # leave the variables at the returned point
            return {
                "loss": last["loss"],
                "rmse": float(np.sqrt(last["sq"] / n_obs)),
                "learning_rate": np.nan,
            }

        return epoch

    @staticmethod
    def _adam_epoch(data: TrainData) -> Any:
        def make(objective: Any, variables: list[Any], iters: int, n_obs: float) -> Any:
            import tensorflow as tf

            from recexp.optim import make_optimizer

            optimizer = make_optimizer(data.optimizer)
            optimizer.build(variables)

            @tf.function
            def steps() -> Any:
                loss, sq = tf.constant(0.0), tf.constant(0.0)
                for _ in tf.range(iters):
                    with tf.GradientTape() as tape:
                        loss, sq = objective()
                    optimizer.apply_gradients(
                        zip(tape.gradient(loss, variables), variables, strict=True)
                    )
                return loss, sq

            def epoch(_: int) -> dict[str, float]:
                loss, sq = steps()
                return {
                    "loss": float(loss),
                    "rmse": float(np.sqrt(float(sq) / n_obs)),
                    "learning_rate": current_lr(optimizer),
                }

            return epoch

        return make

    def predict(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        assert self.model is not None, "fit or load first"
        matrix = self.prediction_matrix()
        return matrix[np.asarray(item, np.int64), np.asarray(user, np.int64)].astype(np.float32)

    def save(self, directory: Path) -> None:
        assert self.model is not None and self.vectors is not None
        directory = Path(directory)
        write_meta(
            directory,
            self.options,
            n_users=self.n_users,
            n_items=self.n_items,
            stage=self.stage,
            optimizer_label=self.optimizer_label,
        )
        self.model.save_weights(directory / "model.weights.h5")
        self.vectors.save(directory / "rating_vectors.npz")

    @classmethod
    def load(cls, directory: Path) -> GLocalKRecommender:
        meta = read_meta(directory)
        self = cls(GLocalKOptions(**meta["options"]), meta["n_users"], meta["n_items"])
        self.stage, self.optimizer_label = meta["stage"], meta["optimizer_label"]
        self._build()
        self.model.load_weights(Path(directory) / "model.weights.h5")
        self.vectors = RatingVectors.load(Path(directory) / "rating_vectors.npz")
        return self

    def summary(self) -> ModelSummary:
        params = int(self.model.count_params()) if self.model is not None else 0
        o = self.options
        text = f"GLocal-K {o.n_layers}x{o.n_hid} (kernel dim {o.n_dim}), {params:,} params"
        return ModelSummary(text, {"params": params})


@MODELS.register("glocal_k", options=GLocalKOptions, help="GLocal-K (Han et al. 2021)")
def build_glocal_k(options: GLocalKOptions, ctx: BuildContext) -> GLocalKRecommender:
    """A Recommender (not a keras.Model): the redesign's registry returns Recommenders."""
    return GLocalKRecommender(options, ctx.n_users, ctx.n_items)
