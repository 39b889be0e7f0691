"""``FullEmbedding``: one trainable row per id, ``keras.layers.Embedding`` with a row gather."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from recexp.embeddings.layers.base import EmbeddingTable
from recexp.embeddings.layers.lookup import lookup


@keras.saving.register_keras_serializable(package="recexp")
class FullEmbedding(keras.layers.Embedding, EmbeddingTable):
    """``keras.layers.Embedding`` whose lookup gathers rows without reading the whole table.

    Args, input shape and output shape: those of ``keras.layers.Embedding`` (without
    ``mask_zero`` / quantization / LoRA support, which recexp's tables do not use).
    """

    strategy = "full"

    def call(self, inputs: Any) -> Any:
        if inputs.dtype not in ("int32", "int64"):
            inputs = ops.cast(inputs, "int32")
        return ops.cast(lookup(self.embeddings, inputs), self.compute_dtype)

    def table_report(self) -> dict[str, Any]:
        vocab = int(self.input_dim)
        return {
            "strategy": self.strategy,
            "vocabulary": vocab,
            "rows": vocab,
            "dim": int(self.output_dim),
        }
