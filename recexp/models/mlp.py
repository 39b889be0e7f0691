"""``mlp``: concatenated user and item embeddings into a Dense stack (seed 001, NCF's MLP).

Seed 001 as a spec (74,937 parameters with 2,391 user and 1,649 item rows)::

    model:
      family: mlp
      dim: 15
      l2: 0.01                 # kernel_regularizer='l2' on every Dense, output included
      layers:
        - {units: 128, dropout: 0.6}
        - {units: 64, dropout: 0.5}
        - {units: 32, dropout: 0.4}
      output_activation: relu
      output_bias: mean        # bias_initializer=Constant(output_bias)

Seed 001 concatenates ``[movie, user]``; this family concatenates ``[user, item]``,
which changes no parameter count. Its 16-unit ``dense4`` is not in the graph, so it has
no counterpart.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, NonNegativeFloat, PositiveInt, field_validator

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
from recexp.schema import Activation, Options


class DenseLayer(Options):
    """One hidden layer; unset fields take the family-level ``activation``/``dropout``/``l2``."""

    units: PositiveInt
    activation: Activation | None = None
    dropout: float | None = Field(None, ge=0, lt=1, description="dropout after the layer")
    l2: NonNegativeFloat | None = Field(None, description="L2 penalty on the kernel")


class MLPOptions(ModelOptions):
    """Embeddings, concatenated, through hidden Dense layers into a Dense(1) output.

    ``layers`` lists the hidden layers, each an int (units) or a mapping
    ``{units, activation, dropout, l2}``; what a layer leaves out comes from the
    family-level ``activation``, ``dropout`` and ``l2``. ``l2`` also applies to the
    output layer's kernel.
    """

    family: Literal["mlp"] = "mlp"
    dim: PositiveInt = Field(32, description="embedding size")
    layers: list[DenseLayer] = Field(
        default_factory=lambda: [DenseLayer(units=64), DenseLayer(units=32)],
        min_length=1,
        description="hidden layers: units, or {units, activation, dropout, l2}",
    )
    activation: Activation = Field("relu", description="default hidden activation")
    dropout: float = Field(0.0, ge=0, lt=1, description="default dropout after a hidden layer")
    l2: NonNegativeFloat = Field(
        0.0, description="default L2 penalty on hidden kernels, and the output kernel's"
    )
    embedding_l2: NonNegativeFloat = Field(0.0, description=EMBEDDING_L2_HELP)
    embedding_l2_per: L2Per = Field("rating", description=EMBEDDING_L2_PER_HELP)
    output_activation: Literal["linear", "relu"] = Field(
        "linear", description="activation of the Dense(1) output"
    )
    output_bias: Literal["mean"] | float = Field(
        "mean", description="initial output bias: the training mean or a number"
    )

    @field_validator("layers", mode="before")
    @classmethod
    def _units_shorthand(cls, value: Any) -> Any:
        """``[128, 64]`` is short for ``[{units: 128}, {units: 64}]``."""
        if isinstance(value, list):
            return [{"units": v} if isinstance(v, int) else v for v in value]
        return value


@MODELS.register("mlp", options=MLPOptions, help="concatenated embeddings into Dense layers")
def build_mlp(options: MLPOptions, ctx: BuildContext) -> Any:
    import keras
    from keras import layers

    def l2(value: float) -> Any:
        return keras.regularizers.L2(value) if value else None

    user_in, item_in = id_inputs()
    emb_l2, per = options.embedding_l2, options.embedding_l2_per
    user_emb = ctx.embedding("user", "user_embedding", options.dim)(user_in)
    user_vec = ctx.id_l2("user", user_emb, user_in, emb_l2, per)
    item_emb = ctx.embedding("item", "item_embedding", options.dim)(item_in)
    item_vec = ctx.id_l2("item", item_emb, item_in, emb_l2, per)
    x = layers.Concatenate(name="concat")([user_vec, item_vec])
    for i, spec in enumerate(options.layers):
        x = layers.Dense(
            spec.units,
            activation=spec.activation or options.activation,
            kernel_regularizer=l2(options.l2 if spec.l2 is None else spec.l2),
            name=f"mlp_layer_{i}",
        )(x)
        rate = options.dropout if spec.dropout is None else spec.dropout
        if rate:
            x = layers.Dropout(rate, seed=ctx.seed, name=f"mlp_dropout_{i}")(x)
    out = layers.Dense(
        1,
        activation=options.output_activation,
        kernel_regularizer=l2(options.l2),
        bias_initializer=keras.initializers.Constant(initial_bias(options.output_bias, ctx)),
        name="prediction",
    )(x)
    return keras.Model({"user_input": user_in, "item_input": item_in}, out, name="mlp")
