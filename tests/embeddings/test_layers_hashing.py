"""HashedEmbedding and its hash: deterministic, the same bins as numpy, collisions counted."""

from __future__ import annotations

from collections import Counter

import numpy as np

from recexp.embeddings.hashing import HashingOptions
from recexp.embeddings.layers.hashing import collisions, hash_ids

from .cases import build, request


def test_hashing_is_deterministic_and_matches_numpy():
    layer = build(HashingOptions(num_bins=5, salt=3), request(40, dim=4))
    ids = np.arange(40).reshape(40, 1)
    bins = np.asarray(layer.bins(ids))
    np.testing.assert_array_equal(bins, hash_ids(ids, 5, 3))
    np.testing.assert_array_equal(bins, np.asarray(layer.bins(ids)))
    assert bins.min() >= 0 and bins.max() < 5
    assert not np.array_equal(hash_ids(ids, 5, 3), hash_ids(ids, 5, 4))  # salt reshuffles
    out = np.asarray(layer(ids))
    assert out.shape == (40, 1, 4)
    np.testing.assert_array_equal(out[:, 0], np.asarray(layer.embeddings)[bins[:, 0]])


def test_hashing_collision_count():
    per_bin = Counter(hash_ids(np.arange(10), 4, 0).tolist())
    expected = sum(n for n in per_bin.values() if n > 1)
    assert collisions(10, 4) == {"colliding_ids": expected, "bins_used": len(per_bin)}
    assert collisions(10, 1) == {"colliding_ids": 10, "bins_used": 1}
    assert collisions(1, 4) == {"colliding_ids": 0, "bins_used": 1}
    layer = build(HashingOptions(num_bins=4), request(10))
    assert layer.collisions == collisions(10, 4)
    assert build(HashingOptions(), request(9)).num_bins == 5  # default: half, rounded up
