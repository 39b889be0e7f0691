"""What the embedding tests share: a tiny table by hand, table requests, strategy variants."""

from __future__ import annotations

import numpy as np

from recexp.embeddings import EMBEDDINGS, TableRequest
from recexp.embeddings.full import FullOptions
from recexp.embeddings.hashing import HashingOptions
from recexp.embeddings.mixed_dim import MixedDimOptions
from recexp.embeddings.quotient_remainder import QuotientRemainderOptions

# 8 items: training ratings per item; items 2 and 7 were never rated.
COUNTS = np.array([10, 1, 0, 5, 2, 1, 1, 0])
# most rated first, ties by id: 0 (10), 3 (5), 4 (2), 1, 5, 6 (1 each), 2, 7 (0)


def request(vocab: int, dim: int = 8, counts: np.ndarray | None = None, table: str = "item"):
    return TableRequest(name="emb", table=table, vocab=vocab, dim=dim, counts=counts)  # type: ignore[arg-type]


def build(options, req):
    return EMBEDDINGS.get(options.strategy).fn(options, req)


STRATEGIES = {
    "full": FullOptions(),
    "quotient_remainder": QuotientRemainderOptions(num_buckets=4, combiner="concat"),
    "mixed_dim": MixedDimOptions(blocks=[2, 3], dims=[8, 4, 2]),
    "hashing": HashingOptions(num_bins=5, salt=1),
}
# layer variants with state of their own in the config (id ranks, QR blocks, row order)
VARIANTS = {
    **STRATEGIES,
    "quotient_remainder-frequency": QuotientRemainderOptions(
        num_buckets=3, sizing="compact", order="frequency", quotient_initializer="ones"
    ),
    "mixed_dim-qr": MixedDimOptions(blocks=[2, 3], dims=[8, 4, 2], qr_compression=[1, 1, 2]),
}


def context(user, item, n_users=12, n_items=8, item_counts=COUNTS, user_counts=None):
    from recexp.models import BuildContext

    return BuildContext(
        n_users=n_users,
        n_items=n_items,
        global_mean=3.5,
        rating_min=1.0,
        rating_max=5.0,
        user_embedding=user,
        item_embedding=item,
        user_counts=user_counts,
        item_counts=item_counts,
        seed=1,
    )
