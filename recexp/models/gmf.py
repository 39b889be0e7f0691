"""``gmf``: Generalized Matrix Factorization (He et al. 2017), ``h . (p_u * q_i) + b``."""

from __future__ import annotations

from typing import Any, Literal

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


class GMFOptions(ModelOptions):
    """The NCF paper's GMF: the element-wise product of the two embeddings into Dense(1).

    The Dense layer learns a weight per factor (plain MF fixes them all to 1), and its
    bias starts at the training mean (``output_bias: mean``) or at a given number.
    """

    family: Literal["gmf"] = "gmf"
    dim: PositiveInt = Field(16, description="embedding size (predictive factors)")
    embedding_l2: NonNegativeFloat = Field(0.0, description=EMBEDDING_L2_HELP)
    embedding_l2_per: L2Per = Field("rating", description=EMBEDDING_L2_PER_HELP)
    output_bias: Literal["mean"] | float = Field(
        "mean", description="initial bias of the output Dense: the training mean or a number"
    )
    output_activation: Literal["linear", "relu"] = Field(
        "linear", description="activation of the output Dense"
    )


def initial_bias(value: str | float, ctx: BuildContext) -> float:
    """``"mean"`` -> the training mean (in training units); a number -> itself."""
    return ctx.global_mean if value == "mean" else float(value)


@MODELS.register("gmf", options=GMFOptions, help="element-wise product into Dense(1) (NCF)")
def build_gmf(options: GMFOptions, ctx: BuildContext) -> Any:
    import keras
    from keras import layers

    user_in, item_in = id_inputs()
    l2, per = options.embedding_l2, options.embedding_l2_per
    user_emb = ctx.embedding("user", "user_embedding", options.dim)(user_in)
    user_vec = ctx.id_l2("user", user_emb, user_in, l2, per)
    item_emb = ctx.embedding("item", "item_embedding", options.dim)(item_in)
    item_vec = ctx.id_l2("item", item_emb, item_in, l2, per)
    product = layers.Multiply(name="gmf_product")([user_vec, item_vec])
    out = layers.Dense(
        1,
        activation=options.output_activation,
        bias_initializer=keras.initializers.Constant(initial_bias(options.output_bias, ctx)),
        name="prediction",
    )(product)
    return keras.Model({"user_input": user_in, "item_input": item_in}, out, name="gmf")
