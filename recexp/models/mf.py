"""``mf``: biased matrix factorization, ``mu + b_u + b_i + p_u . q_i``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, NonNegativeFloat, PositiveInt

from recexp.models.base import MODELS, BuildContext, ModelOptions, id_inputs


class MFOptions(ModelOptions):
    """Biased dot product (Koren et al. 2009): embeddings, biases and the global mean.

    No dense layer: the parameter count is exactly the tables' (seed 002's baseline
    with ``use_bias: false, global_mean: false, output: sigmoid_scaled``; seed 004's
    RecommenderNet with ``global_mean: false, output: relu``).
    """

    family: Literal["mf"] = "mf"
    dim: PositiveInt = Field(32, description="embedding size")
    l2: NonNegativeFloat = Field(
        0.0, description="per-rating L2 on the looked-up user and item vectors (as Surprise SVD)"
    )
    use_bias: bool = Field(True, description="user and item bias terms")
    bias_l2: NonNegativeFloat = Field(0.0, description="per-rating L2 on the looked-up biases")
    global_mean: bool = Field(True, description="add the training mean (not for sigmoid_scaled)")
    output: Literal["linear", "relu", "sigmoid_scaled"] = Field(
        "linear", description="sigmoid_scaled = sigmoid(x) * rating max, as seed 002"
    )


@MODELS.register("mf", options=MFOptions, help="biased dot product (Koren et al. 2009)")
def build_mf(options: MFOptions, ctx: BuildContext) -> Any:
    import keras
    from keras import layers

    from recexp.models.layers import AddConstant, ScaledSigmoid, rating_l2

    user_in, item_in = id_inputs()

    def lookup(layer: Any, ids: Any, l2: float) -> Any:
        return rating_l2(layer(ids), l2)

    user_vec = lookup(ctx.embedding("user", "user_embedding", options.dim), user_in, options.l2)
    item_vec = lookup(ctx.embedding("item", "item_embedding", options.dim), item_in, options.l2)
    score = layers.Dot(axes=1, name="dot")([user_vec, item_vec])
    if options.use_bias:
        user_bias = lookup(ctx.bias("user", "user_bias"), user_in, options.bias_l2)
        item_bias = lookup(ctx.bias("item", "item_bias"), item_in, options.bias_l2)
        score = layers.Add(name="add_biases")([score, user_bias, item_bias])
    if options.output == "sigmoid_scaled":
        out = ScaledSigmoid(ctx.rating_max, name="sigmoid_scaled")(score)
    else:
        if options.global_mean:
            score = AddConstant(ctx.global_mean, name="global_mean")(score)
        out = layers.Activation("relu", name="relu")(score) if options.output == "relu" else score
    return keras.Model({"user_input": user_in, "item_input": item_in}, out, name="mf")
