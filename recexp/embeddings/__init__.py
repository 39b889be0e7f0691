"""Embedding strategies. Importing this package fills the embedding registry.

Only the options and builders live here; the Keras layers are in
:mod:`recexp.embeddings.layers`, imported by the builders when a model is built, so
importing this package does not import Keras.
"""

from recexp.embeddings import (  # noqa: F401  (register the strategies)
    full,
    hashing,
    mixed_dim,
    quotient_remainder,
)
from recexp.embeddings.base import EMBEDDINGS, EmbeddingOptions, TableRequest

__all__ = ["EMBEDDINGS", "EmbeddingOptions", "TableRequest"]
