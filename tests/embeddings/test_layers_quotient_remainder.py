"""QuotientRemainderEmbedding: rows by hand, shapes, distinct vectors, frequency order."""

from __future__ import annotations

import numpy as np
import pytest

from recexp.embeddings.quotient_remainder import QuotientRemainderOptions, resolve_buckets

from .cases import COUNTS, build, request


def test_qr_ten_ids_three_buckets_by_hand():
    # ids 0..9, 3 buckets: quotients 0,0,0,1,1,1,2,2,2,3 (4 rows), remainders 0,1,2,0,1,2,...
    buckets, quotient_rows = resolve_buckets(
        QuotientRemainderOptions(num_buckets=3, sizing="compact"), request(10)
    )
    assert (buckets, quotient_rows) == (3, 4)
    pairs = [(i // 3, i % 3) for i in range(10)]
    assert pairs[7] == (2, 1) and pairs[9] == (3, 0)
    assert len(set(pairs)) == 10

    layer = build(
        QuotientRemainderOptions(num_buckets=3, sizing="compact", combiner="add"), request(10)
    )
    layer.build((None, 1))
    q = np.arange(4 * 8, dtype="float32").reshape(4, 8)  # row r of q holds 8r .. 8r+7
    r = 1000 * np.arange(3 * 8, dtype="float32").reshape(3, 8)
    layer.set_weights([q, r])
    out = np.asarray(layer(np.arange(10).reshape(10, 1)))
    assert out.shape == (10, 1, 8)
    np.testing.assert_array_equal(out[7, 0], q[2] + r[1])
    assert len({row.tobytes() for row in out[:, 0]}) == 10


@pytest.mark.parametrize("combiner", ["multiply", "add", "concat"])
def test_qr_shapes_and_distinct_vectors(combiner):
    layer = build(QuotientRemainderOptions(num_buckets=3, combiner=combiner), request(9, dim=6))
    out = np.asarray(layer(np.arange(9).reshape(3, 3)))
    assert out.shape == (3, 3, 6)
    assert len({row.tobytes() for row in out.reshape(9, 6)}) == 9
    assert layer.quotient_embeddings.shape == (3, 3 if combiner == "concat" else 6)


def test_qr_frequency_order_and_identity_quotient_start():
    # COUNTS ranks: 0 (10), 3 (5), 4 (2), 1, 5, 6 (1 each), 2, 7 (0) -> ranks of ids 0..7
    options = QuotientRemainderOptions(
        num_buckets=3, sizing="compact", order="frequency", quotient_initializer="ones"
    )
    layer = build(options, request(8, 4, COUNTS))
    assert layer.get_config()["id_ranks"] == [0, 3, 6, 1, 2, 4, 5, 7]
    layer.build((None, 1))
    np.testing.assert_array_equal(np.asarray(layer.quotient_embeddings), np.ones((3, 4)))
    r = np.arange(12, dtype="float32").reshape(3, 4)
    q = np.array([[1.0] * 4, [2.0] * 4, [3.0] * 4], dtype="float32")
    layer.set_weights([q, r])
    out = np.asarray(layer(np.arange(8).reshape(8, 1)))[:, 0]
    # id 2 has rank 6 = 2 * 3 + 0: quotient row 2, remainder row 0
    np.testing.assert_array_equal(out[2], q[2] * r[0])
    # the three most rated ids (0, 3, 4: ranks 0, 1, 2) sit in different remainder rows
    np.testing.assert_array_equal(out[[0, 3, 4]], q[0] * r)
    assert len({row.tobytes() for row in out}) == 8
    with pytest.raises(ValueError, match="id_ranks must be a permutation of range"):
        type(layer)(vocabulary_size=3, output_dim=2, num_buckets=2, id_ranks=[0, 0, 1])
