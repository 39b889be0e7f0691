"""``gmf``: Generalized Matrix Factorization (He et al. 2017), ``h . (p_u * q_i) + b``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, NonNegativeFloat, PositiveInt

from recexp.models.base import EMBEDDING_L2_HELP, MODELS, BuildContext, ModelOptions, id_inputs


class GMFOptions(ModelOptions):
    """The NCF paper's GMF: the element-wise product of the two embeddings into Dense(1).

    The Dense layer learns a weight per factor (plain MF fixes them all to 1), and its
    bias starts at the training mean (``output_bias: mean``) or at a given number.
    """

    family: Literal["gmf"] = "gmf"
    dim: PositiveInt = Field(16, description="embedding size (predictive factors)")
    embedding_l2: NonNegativeFloat = Field(0.0, description=EMBEDDING_L2_HELP)
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

    from recexp.models.layers import rating_l2

    user_in, item_in = id_inputs()
    l2 = options.embedding_l2
    user_vec = rating_l2(ctx.embedding("user", "user_embedding", options.dim)(user_in), l2)
    item_vec = rating_l2(ctx.embedding("item", "item_embedding", options.dim)(item_in), l2)
    product = layers.Multiply(name="gmf_product")([user_vec, item_vec])
    out = layers.Dense(
        1,
        activation=options.output_activation,
        bias_initializer=keras.initializers.Constant(initial_bias(options.output_bias, ctx)),
        name="prediction",
    )(product)
    return keras.Model({"user_input": user_in, "item_input": item_in}, out, name="gmf")
