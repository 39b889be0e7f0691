"""``two_tower``: query and candidate towers scored by a dot product (seed 003).

As keras-rs "Deep Recommenders": the query tower embeds the user id and the user
features, the candidate tower the item id and the item features; each concatenates its
embeddings into a Dense stack (``layer_sizes``, relu but the last, which is linear), and
the score is the dot product of the two outputs, trained on ratings.

Features come from ``BuildContext.features`` (see :mod:`recexp.models.features`) and
never become model inputs: each feature table is a non-trainable int32 weight of a
:class:`~recexp.models.layers.FeatureLookup` inside the model, gathered by id, so the
model still takes only ``user_input``/``item_input`` and ``model.keras`` reloads as is.
Every feature (one column or a padded list) is embedded and mean-pooled over its
non-zero ids; 0 (unknown, padding) contributes nothing.

The towers are sub-models named ``query_tower`` and ``candidate_tower`` (input: codes of
shape ``(batch, 1)``; output: ``(batch, layer_sizes[-1])``), which
:func:`recexp.models.retrieval.retrieval_metrics` uses to evaluate the model as a retriever.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field, NonNegativeFloat, PositiveInt

from recexp.models.base import (
    EMBEDDING_L2_HELP,
    EMBEDDING_L2_PER_HELP,
    MODELS,
    BuildContext,
    L2Per,
    ModelOptions,
    id_inputs,
)
from recexp.models.gmf import initial_bias
from recexp.schema import Activation


class TwoTowerOptions(ModelOptions):
    """Seed 003's towers: ``layer_sizes: [32]``, ``[64, 32]`` or ``[128, 64, 32]``."""

    family: Literal["two_tower"] = "two_tower"
    dim: PositiveInt = Field(32, description="id embedding size")
    feature_dim: PositiveInt | None = Field(
        None, description="feature embedding size; default: dim (as seed 003)"
    )
    layer_sizes: list[PositiveInt] = Field(
        [32], min_length=1, description="Dense units per tower; relu but the last (linear)"
    )
    activation: Activation = Field("relu", description="activation of all but the last Dense")
    embedding_l2: NonNegativeFloat = Field(
        0.0, description=EMBEDDING_L2_HELP + "; also on each side feature's pooled vector"
    )
    embedding_l2_per: L2Per = Field(
        "rating", description=EMBEDDING_L2_PER_HELP + " (the id tables; features per rating)"
    )
    use_features: bool = Field(True, description="embed the side features when the data has them")
    output_bias: Literal["mean"] | float | None = Field(
        None, description="add a trainable scalar starting at the training mean or a number"
    )
    retrieval_k: PositiveInt = Field(100, description="k of the top-k retrieval metrics")
    relevant_rating: float | None = Field(
        None, description="test pairs rated at least this are relevant; default: the top rating"
    )


def _tower(
    side: Literal["user", "item"], options: TwoTowerOptions, ctx: BuildContext, name: str
) -> Any:
    import keras
    from keras import layers

    from recexp.models.layers import FeatureLookup, MaskedMean, rating_l2

    n = ctx.n_users if side == "user" else ctx.n_items
    l2 = options.embedding_l2
    ids = keras.Input(shape=(1,), dtype="int32", name=f"{side}_code")
    vectors = ctx.embedding(side, f"{side}_embedding", options.dim)(ids)
    parts = [ctx.id_l2(side, vectors, ids, l2, options.embedding_l2_per)]
    features = ctx.features.get(side, {}) if options.use_features else {}
    for feature, values in features.items():
        table = np.asarray(values, dtype="int32")
        table = table.reshape(len(table), -1)
        if table.shape[0] != n:
            raise ValueError(
                f"features.{side}.{feature}: expected {n} rows (one per {side} code), "
                f"got {table.shape[0]}"
            )
        vocab = max(int(table.max(initial=0)) + 1, 2)
        lookup = FeatureLookup(n, table.shape[1], table, name=f"{side}_{feature}_lookup")(ids)
        vectors = layers.Embedding(
            vocab, options.feature_dim or options.dim, name=f"{side}_{feature}_embedding"
        )(lookup)
        pooled = MaskedMean(name=f"{side}_{feature}_mean")([vectors, lookup])
        parts.append(rating_l2(pooled, l2))
    x = parts[0] if len(parts) == 1 else layers.Concatenate(name=f"{side}_concat")(parts)
    for i, units in enumerate(options.layer_sizes):
        last = i == len(options.layer_sizes) - 1
        activation = None if last else options.activation
        x = layers.Dense(units, activation=activation, name=f"{side}_dense_{i}")(x)
    return keras.Model(ids, x, name=name)


@MODELS.register(
    "two_tower", options=TwoTowerOptions, help="query/candidate towers, dot product (keras-rs)"
)
def build_two_tower(options: TwoTowerOptions, ctx: BuildContext) -> Any:
    import keras
    from keras import layers

    from recexp.models.layers import ScalarBias
    from recexp.models.retrieval import CANDIDATE_TOWER, QUERY_TOWER, TwoTowerRecommender

    user_in, item_in = id_inputs()
    query = _tower("user", options, ctx, QUERY_TOWER)(user_in)
    candidate = _tower("item", options, ctx, CANDIDATE_TOWER)(item_in)
    out = layers.Dot(axes=1, name="score")([query, candidate])
    if options.output_bias is not None:
        out = ScalarBias(initial_bias(options.output_bias, ctx), name="output_bias")(out)
    model = keras.Model({"user_input": user_in, "item_input": item_in}, out, name="two_tower")
    return TwoTowerRecommender(model, options.retrieval_k, options.relevant_rating)
