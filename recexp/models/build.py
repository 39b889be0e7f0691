"""Build the :class:`Recommender` a spec describes, sized for its data.

Families register a builder that returns either a ``keras.Model`` (wrapped here in a
:class:`KerasRecommender` and compiled with the spec's optimizer) or a finished
:class:`Recommender` of their own (closed-form baselines, families with their own fit).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from recexp.config import ExperimentConfig, TrainingOptions
from recexp.data.pipeline import Dataset
from recexp.models.base import MODELS, BuildContext, ModelOptions
from recexp.models.protocol import Recommender
from recexp.training.optimizers import OptimizerOptions


def build_context(config: ExperimentConfig, data: Dataset) -> BuildContext:
    """What a family may know about the data when it builds its layers."""
    lo, hi = data.transform.forward(np.array([data.scale.min, data.scale.max], np.float32))
    mean = float(data.transform.forward(np.array([data.global_mean]))[0])
    return BuildContext(
        n_users=data.n_users,
        n_items=data.n_items,
        # an implicit objective's output is a logit: no rating offset to start from
        global_mean=0.0 if config.training.objective.implicit else mean,
        rating_min=float(lo),
        rating_max=float(hi),
        user_embedding=config.embedding.user,
        item_embedding=config.embedding.item,
        user_counts=data.user_counts(),
        item_counts=data.item_counts(),
        seed=config.seed,
        features=_features(config, data),
    )


def build_recommender(config: ExperimentConfig, data: Dataset) -> Recommender:
    """The spec's model, ready to fit (Keras models compiled; imports Keras for those),
    built in the scope of the spec's ``training.distribute`` strategy."""
    from recexp.training.tf_start import import_tensorflow

    import_tensorflow()
    import keras

    from recexp.training.distribute import strategy_scope

    ctx = build_context(config, data)
    with strategy_scope(config.training.distribute):  # variables made here are distributed
        keras.utils.set_random_seed(config.seed)
        return make_recommender(
            config.model, ctx, config.training, config.optimizer, len(data.train)
        )


def make_recommender(
    options: ModelOptions,
    ctx: BuildContext,
    training: TrainingOptions,
    optimizer: OptimizerOptions,
    n_train: int,
) -> Recommender:
    """A family's model behind the Recommender interface, ready to fit."""
    built = MODELS.get(options.family, key="model.family").fn(options, ctx)
    if not isinstance(built, Recommender):
        from recexp.models.keras_model import KerasRecommender

        built = KerasRecommender(built)
    built.n_items = ctx.n_items
    built.prepare(training, optimizer, n_train)
    return built


def _features(config: ExperimentConfig, data: Dataset) -> dict[str, Any]:
    """Side features as int tables per code, for the families that use them."""
    if not getattr(config.model, "use_features", False):
        return {}
    from recexp.models.features import encode_features

    r = data.ratings
    users, items = np.asarray(data.users.ids), np.asarray(data.items.ids)
    return encode_features(r.user_features, r.item_features, users, items)
