"""The Keras layers behind the embedding strategies (imports Keras).

Importing this package registers every layer with ``keras.saving``, so
``keras.saving.load_model`` can rebuild a saved ``model.keras``. The strategy modules one
level up import these lazily, inside their builders.
"""

from recexp.embeddings.layers.hashing import HashedEmbedding
from recexp.embeddings.layers.lookup import FullEmbedding
from recexp.embeddings.layers.mixed_dim import MixedDimensionEmbedding
from recexp.embeddings.layers.quotient_remainder import QuotientRemainderEmbedding

__all__ = [
    "FullEmbedding",
    "HashedEmbedding",
    "MixedDimensionEmbedding",
    "QuotientRemainderEmbedding",
]
