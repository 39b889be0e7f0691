"""The Keras layers behind the embedding strategies (imports Keras).

Importing this package registers every layer with ``keras.saving``, so
``keras.saving.load_model`` can rebuild a saved ``model.keras``. The strategy modules one
level up import these lazily, inside their builders; nothing here imports the strategy
side. Every layer is an :class:`EmbeddingTable`: the memory report reads it through
:meth:`EmbeddingTable.table_report`.
"""

from recexp.embeddings.layers.base import EmbeddingTable
from recexp.embeddings.layers.full import FullEmbedding
from recexp.embeddings.layers.hashing import HashedEmbedding
from recexp.embeddings.layers.mixed_dim import MixedDimensionEmbedding
from recexp.embeddings.layers.quotient_remainder import QuotientRemainderEmbedding

__all__ = [
    "EmbeddingTable",
    "FullEmbedding",
    "HashedEmbedding",
    "MixedDimensionEmbedding",
    "QuotientRemainderEmbedding",
]
