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
from recexp.errors import ConfigError
from recexp.models._accuracy_common import (
    AccuracyRecommender,
    own_loop_unsupported,
    save_atomically,
)
from recexp.models.base import MODELS, BuildContext, ModelOptions
from recexp.models.protocol import ModelSummary, Recommender
from recexp.runs import MODEL_WEIGHTS, RATING_VECTORS
from recexp.training.events import EpochListener, FitResult, TrainData


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

    def unsupported(self, config: Any) -> tuple[str, str, Any] | None:
        import importlib.util

        if self.optimizer == "lbfgs" and importlib.util.find_spec("scipy") is None:
            problem = "L-BFGS-B needs scipy: pip install 'recexp[accuracy]' (or optimizer: adam)"
            return "model.optimizer", problem, self.optimizer
        return own_loop_unsupported(config, zeros_unobserved=True)


class GLocalKRecommender(AccuracyRecommender):
    """``glocal_k`` behind the Recommender interface: the model, and the train rating
    matrix it reads (saved beside the weights as rating vectors)."""

    options_class = GLocalKOptions
    options: GLocalKOptions

    def __init__(self, options: GLocalKOptions, *args: Any) -> None:
        super().__init__(options, *args)
        self.vectors: RatingVectors | None = None
        self.stage = "pre"
        self._matrix: np.ndarray | None = None  # cached predictions (n_items, n_users)
        self._build()

    def planned_epochs(self, training: Any) -> int:
        return self.options.pre_epochs + self.options.fine_epochs  # not training.max_epochs

    def _build(self) -> None:
        from recexp.models.layers_glocal_k import GLocalK

        o = self.options
        self.model = GLocalK(
            self.n_users, self.n_items, o.n_hid, o.n_dim, o.n_layers, o.lambda_s, o.lambda_2,
            o.gk_size, o.dot_scale, name="glocal_k",
        )  # fmt: skip
        self.model.build()

    def prediction_matrix(self) -> np.ndarray:
        """Predictions for every (item, user) of the train matrix, computed once."""
        if self._matrix is None:
            import tensorflow as tf

            assert self.vectors is not None, "fit or load first"
            r = tf.constant(self.vectors.to_dense()[0])
            out = self.model.fine(r) if self.stage == "fine" else self.model.local(r)
            self._matrix = np.asarray(out)
        return self._matrix

    def fit(self, data: TrainData, listeners: Sequence[EpochListener]) -> FitResult:
        import tensorflow as tf

        from recexp.models._accuracy_fit import EpochLoop

        o, model = self.options, self.model
        self.vectors = RatingVectors.build(
            data.user, data.item, data.rating, self.n_users, self.n_items, by="item"
        )
        ratings_np, mask_np = self.vectors.to_dense()
        ratings, mask = tf.constant(ratings_np), tf.constant(mask_np)

        def objective(stage: str) -> Any:
            def loss() -> Any:
                pred = model.fine(ratings) if stage == "fine" else model.local(ratings)
                err = mask * (ratings - pred)
                sq = tf.reduce_sum(tf.square(err))
                return 0.5 * sq + model.penalty(), sq, tf.reduce_sum(tf.abs(err))

            return loss

        def validate() -> np.ndarray:
            self._matrix = None
            return self.validation_predictions(data)

        loop = EpochLoop(listeners, data)
        step = self._step_maker(data)
        for stage, epochs, iters in (
            ("pre", o.pre_epochs, o.iter_p),
            ("fine", o.fine_epochs, o.iter_f),
        ):
            self.stage = stage
            variables = model.local_variables()
            if stage == "fine":
                variables = variables + model.global_kernel.trainable_weights
            run = step(objective(stage), variables, iters, float(mask_np.sum()))
            loop.run(epochs, run, validate, self.weights, self._set_weights, select=stage == "fine")
            if loop.halted:
                break
        self._matrix = None
        return loop.result

    def _step_maker(self, data: TrainData) -> Any:
        from recexp.models._glocal_k_steps import adam_epochs, lbfgs_epochs

        o = self.options
        if o.optimizer == "lbfgs":
            self.optimizer_label = f"L-BFGS-B (scipy) {o.iter_p}/{o.iter_f} iterations per epoch"
            return lbfgs_epochs
        from recexp.training.optimizers import make_optimizer

        self.optimizer_label = (
            f"full-batch {data.optimizer.name} lr={data.optimizer.learning_rate:.3g}"
        )
        return adam_epochs(lambda: make_optimizer(data.optimizer))

    def _set_weights(self, weights: list[np.ndarray]) -> None:
        self.model.set_weights(weights)
        self._matrix = None

    def predict(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        matrix = self.prediction_matrix()
        return matrix[np.asarray(item, np.int64), np.asarray(user, np.int64)].astype(np.float32)

    def save_files(self, directory: Path) -> None:
        assert self.vectors is not None, "fit first"
        vectors = self.vectors
        save_atomically(directory, MODEL_WEIGHTS, self.model.save_weights)
        save_atomically(directory, RATING_VECTORS, vectors.save)
        self.write_options(directory, stage=self.stage)

    @classmethod
    def load_files(cls, directory: Path) -> Recommender:
        self, meta = cls.from_saved(directory)
        self.stage = meta["stage"]
        self.load_saved_weights(directory, vectors=True)
        return self

    def summary(self) -> ModelSummary:
        from recexp.models.keras_model import keras_summary

        summary = keras_summary(self.model)
        o = self.options
        summary.text += f"\nGLocal-K {o.n_layers}x{o.n_hid}, local kernel dim {o.n_dim}"
        return summary


@MODELS.register("glocal_k", options=GLocalKOptions, help="GLocal-K (Han et al. 2021)")
def build_glocal_k(options: GLocalKOptions, ctx: BuildContext) -> Recommender:
    """A Recommender of its own (full-batch over the rating matrix, two stages)."""
    if ctx.n_users * ctx.n_items > options.max_cells:
        raise ConfigError(
            f"glocal_k is full-batch over the rating matrix: {ctx.n_items:,} items x "
            f"{ctx.n_users:,} users exceed max_cells",
            key="model.max_cells",
            got=options.max_cells,
        )
    return GLocalKRecommender.from_context(options, ctx)
