"""MixedDimensionEmbedding: blocks by hand, QR blocks, keras-io sizing, TF path vs masked."""

from __future__ import annotations

import numpy as np
import pytest

from recexp.embeddings.mixed_dim import MixedDimOptions

from .cases import COUNTS, build, request


def test_mixed_dim_layer_by_hand():
    layer = build(
        MixedDimOptions(blocks=[2, 3], dims=[8, 4, 2], sizing="compact"), request(8, 8, COUNTS)
    )
    out = np.asarray(layer(np.arange(8).reshape(8, 1)))
    assert out.shape == (8, 1, 8)
    assert layer.block_sizes == [2, 3, 3]
    assert [tuple(w.shape) for w in layer.weights] == [(2, 8), (3, 4), (4, 8), (3, 2), (2, 8)]
    assert len({row.tobytes() for row in out[:, 0]}) == 8
    # item 5 is the 2nd id (in id order) of block 1 = {1, 4, 5}: row 2, projected
    table, kernel = np.asarray(layer.weights[1]), np.asarray(layer.weights[2])
    np.testing.assert_allclose(out[5, 0], table[2] @ kernel, rtol=1e-5, atol=1e-9)


def test_mixed_dim_quotient_remainder_block_by_hand():
    # blocks of 2 and 6 ids; the 6-id block (4, 1, 5, 6, 2, 7 by popularity) is stored with
    # 6 // 2 = 3 remainder rows and ceil(6 / 3) = 2 quotient rows instead of 6 rows
    options = MixedDimOptions(blocks=[2], dims=[8, 4], qr_compression=[1, 2], sizing="compact")
    layer = build(options, request(8, 8, COUNTS))
    layer.build((None, 1))
    assert layer.block_buckets == [0, 3]
    assert [(w.name, tuple(w.shape)) for w in layer.weights] == [
        ("block_0_embeddings", (2, 8)),
        ("block_1_remainder", (3, 4)),
        ("block_1_quotient", (2, 4)),
        ("block_1_projection", (4, 8)),
    ]
    assert layer.count_params() == 16 + 12 + 8 + 32
    assert layer.rows == 2 + 3 + 2
    # rows inside the block follow popularity: 4->0, 1->1, 5->2, 6->3, 2->4, 7->5
    assert layer._row[[4, 1, 5, 6, 2, 7]].tolist() == [0, 1, 2, 3, 4, 5]
    out = np.asarray(layer(np.arange(8).reshape(8, 1)))[:, 0]
    remainder, quotient, kernel = (np.asarray(w) for w in layer.weights[1:])
    # item 6: row 3 = quotient 1, remainder 0
    np.testing.assert_allclose(out[6], (quotient[1] * remainder[0]) @ kernel, rtol=1e-5)
    assert len({row.tobytes() for row in out}) == 8

    import keras

    from recexp.embeddings.report import embedding_report

    ids = keras.Input(shape=(1,), dtype="int32")
    (entry,) = embedding_report(keras.Model(ids, layer(ids)))
    assert entry["block_buckets"] == [0, 3] and entry["parameters"] == 68
    assert entry["block_rows"] == [2, 5]  # 2 plain rows; 2 quotient + 3 remainder rows

    from recexp.cli.inspect import _blocks

    assert _blocks(entry) == "; blocks 2/6 ids x 8/4 wide in 2/5 rows"


def test_mixed_dim_keras_io_sizing_adds_spare_rows_and_biases():
    layer = build(MixedDimOptions(blocks=[2, 3], dims=[8, 4, 2]), request(8, 8, COUNTS))
    layer.build((None, 1))
    # block 0: (2+1) x 8; block 1: (3+1) x 4 + 4 x 8 + 8; block 2: (3+1) x 2 + 2 x 8 + 8
    assert layer.count_params() == 24 + (16 + 32 + 8) + (8 + 16 + 8)
    assert layer.rows == 11


@pytest.mark.parametrize(
    ("sizing", "qr"),
    [("keras_io", None), ("compact", None), ("compact", [1, 3, 4]), ("keras_io", [2, 1, 4])],
)
def test_mixed_dim_partitioned_lookup_matches_masked(sizing, qr):
    """The TF path (each id gathered and projected once) equals the masked, any-backend one."""
    import tensorflow as tf

    rng = np.random.default_rng(3)
    counts = rng.integers(0, 50, size=40)
    layer = build(
        MixedDimOptions(blocks=[5, 10], dims=[8, 4, 2], sizing=sizing, qr_compression=qr),
        request(40, 8, counts),
    )
    layer.build((None, 3))
    layer.set_weights([rng.normal(size=w.shape).astype("float32") for w in layer.weights])
    ids = tf.constant(rng.integers(0, 40, size=(64, 3)), dtype="int32")
    masked = np.asarray(layer._call_masked(ids))
    np.testing.assert_allclose(np.asarray(layer(ids)), masked, rtol=0, atol=1e-6)
    traced = tf.function(layer.call, input_signature=[tf.TensorSpec((None, 3), tf.int32)])
    np.testing.assert_allclose(np.asarray(traced(ids)), masked, rtol=0, atol=1e-6)

    variables = [w.value for w in layer.trainable_weights]
    grads = []
    for call in (layer.call, layer._call_masked):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(call(ids) ** 2)
        grads.append(tape.gradient(loss, variables))
    block, row = layer._block[np.asarray(ids)], layer._row[np.asarray(ids)]
    for weight, new, old in zip(layer.trainable_weights, *grads, strict=True):
        if weight.name.endswith("_embeddings"):  # a resource gather: only the block's rows
            k = int(weight.name.split("_")[1])
            assert isinstance(new, tf.IndexedSlices)
            assert set(np.asarray(new.indices).tolist()) == set(row[block == k].tolist())
        np.testing.assert_allclose(
            np.asarray(tf.convert_to_tensor(new)), np.asarray(tf.convert_to_tensor(old)), rtol=1e-5
        )
