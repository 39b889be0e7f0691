"""``neumf``: Neural Matrix Factorization (He et al. 2017), seed 000's layers and names."""

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
from recexp.schema import Activation


class NeuMFOptions(ModelOptions):
    """A GMF branch (element-wise product) and an MLP branch fused by a Dense ``out_layer``."""

    family: Literal["neumf"] = "neumf"
    gmf_dim: PositiveInt = Field(16, description="GMF embedding size")
    mlp_dim: PositiveInt = Field(32, description="MLP embedding size")
    mlp_layers: list[PositiveInt] = Field([64, 32, 16], min_length=1, description="Dense units")
    activation: Activation = "relu"
    dropout: float = Field(0.0, ge=0, lt=1, description="dropout after each MLP layer")
    l2: NonNegativeFloat = Field(0.0, description="L2 penalty on the MLP kernels")
    embedding_l2: NonNegativeFloat = Field(0.0, description=EMBEDDING_L2_HELP)
    embedding_l2_per: L2Per = Field("rating", description=EMBEDDING_L2_PER_HELP)
    output_bias: Literal["mean", "zero"] = Field(
        "mean", description="out_layer's bias starts at the training mean, or at 0"
    )


@MODELS.register("neumf", options=NeuMFOptions, help="GMF + MLP fused (He et al. 2017)")
def build_neumf(options: NeuMFOptions, ctx: BuildContext) -> Any:
    import keras
    from keras import layers

    user_in, item_in = id_inputs()

    def penalised(table: str, vectors: Any) -> Any:
        ids = user_in if table == "user" else item_in
        return ctx.id_l2(table, vectors, ids, options.embedding_l2, options.embedding_l2_per)

    mlp_user = ctx.embedding("user", "mlp_user_embedding", options.mlp_dim)(user_in)
    mlp_item = ctx.embedding("item", "mlp_item_embedding", options.mlp_dim)(item_in)
    x = layers.Concatenate()([penalised("user", mlp_user), penalised("item", mlp_item)])
    reg = keras.regularizers.L2(options.l2) if options.l2 else None
    for i, units in enumerate(options.mlp_layers):
        x = layers.Dense(
            units, activation=options.activation, kernel_regularizer=reg, name=f"mlp_layer_{i}"
        )(x)
        if options.dropout:
            x = layers.Dropout(options.dropout, seed=ctx.seed, name=f"mlp_dropout_{i}")(x)
    gmf_user = ctx.embedding("user", "gmf_user_embedding", options.gmf_dim)(user_in)
    gmf_item = ctx.embedding("item", "gmf_item_embedding", options.gmf_dim)(item_in)
    gmf = layers.Multiply()([penalised("user", gmf_user), penalised("item", gmf_item)])
    fused = layers.Concatenate()([x, gmf])
    bias = ctx.global_mean if options.output_bias == "mean" else 0.0
    out = layers.Dense(1, bias_initializer=keras.initializers.Constant(bias), name="out_layer")(
        fused
    )
    return keras.Model(
        {"user_input": user_in, "item_input": item_in}, out, name="neural_matrix_factorization"
    )
