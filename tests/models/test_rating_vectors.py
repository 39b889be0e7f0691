"""RatingVectors: the CSR layout, worked by hand on a 4 users x 3 items matrix."""

from __future__ import annotations

import numpy as np

from recexp.data.rating_vectors import RatingVectors

# user x item:   i0 i1 i2
#          u0 [   5  .  3 ]
#          u1 [   .  4  . ]
#          u2 [   1  .  . ]
#          u3 [   .  2  5 ]
USER = np.array([3, 0, 1, 0, 2, 3])
ITEM = np.array([2, 0, 1, 2, 0, 1])
RATING = np.array([5, 5, 4, 3, 1, 2], np.float32)


def test_item_vectors_by_hand() -> None:
    v = RatingVectors.build(USER, ITEM, RATING, 4, 3, by="item")
    assert v.n_rows == 3 and v.n_cols == 4 and v.nnz == 6
    assert v.indptr.tolist() == [0, 2, 4, 6]
    assert v.indices.tolist() == [0, 2, 1, 3, 0, 3]  # users of item 0, 1, 2
    assert v.values.tolist() == [5, 1, 4, 2, 3, 5]
    dense, mask = v.dense(np.array([2, 0]))
    assert dense.tolist() == [[3, 0, 0, 5], [5, 0, 1, 0]]
    assert mask.tolist() == [[1, 0, 0, 1], [1, 0, 1, 0]]


def test_user_vectors_and_padding() -> None:
    v = RatingVectors.build(USER, ITEM, RATING, 4, 3, by="user")
    assert v.lengths().tolist() == [2, 1, 1, 2]
    padded, lengths = v.padded()
    assert padded.tolist() == [[0, 2], [1, -1], [0, -1], [1, 2]]
    assert lengths.tolist() == [2, 1, 1, 2]
    full, _ = v.to_dense()
    assert full.tolist() == [[5, 0, 3], [0, 4, 0], [1, 0, 0], [0, 2, 5]]


def test_lookup_duplicates_and_save(tmp_path) -> None:  # type: ignore[no-untyped-def]
    v = RatingVectors.build(
        np.array([0, 0, 1]), np.array([1, 1, 0]), np.array([2, 4, 3], np.float32), 2, 2, by="item"
    )
    assert v.nnz == 2
    got = v.lookup(np.array([1, 0, 0]), np.array([0, 1, 0]))
    assert got[0] == 4 and got[1] == 3 and np.isnan(got[2])  # the last duplicate wins
    v.save(tmp_path / "v.npz")
    back = RatingVectors.load(tmp_path / "v.npz")
    assert back.by == "item" and np.array_equal(back.indices, v.indices)
    assert np.array_equal(back.values, v.values) and back.n_cols == 2
