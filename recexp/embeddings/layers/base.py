"""What every recexp embedding layer tells the memory report.

The report (:func:`recexp.embeddings.report.embedding_report`) reads a layer only through
:meth:`EmbeddingTable.table_report`; it adds the name, parameters, bytes and compression
from the layer's weights itself.
"""

from __future__ import annotations

from typing import Any, ClassVar


class EmbeddingTable:
    """Mixin of every recexp embedding layer: one method the memory report calls.

    A layer subclasses its Keras base first, then this mixin
    (``class HashedEmbedding(keras.layers.Layer, EmbeddingTable)``), sets ``strategy``
    to its registry name and implements :meth:`table_report`.
    """

    #: the embedding strategy (registry name) whose builder makes this layer
    strategy: ClassVar[str]

    def table_report(self) -> dict[str, Any]:
        """The table's shape, without its weights (so it works on an unbuilt layer).

        Returns ``strategy``; ``vocabulary``: ids served (``None`` when the layer does not
        know); ``rows``: rows stored; ``dim``: size of the output vectors; then the
        strategy's own keys (hashing: ``colliding_ids``, ``bins_used``; mixed-dim:
        ``block_sizes``, ``block_dims``, ``block_rows`` and, when some block is stored with
        the quotient-remainder trick, ``block_buckets``).
        """
        raise NotImplementedError(f"{type(self).__name__} must implement table_report()")
