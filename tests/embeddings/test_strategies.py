"""Embedding strategies: options, block/bucket/bin arithmetic by hand, layers, models, report."""

from __future__ import annotations

import inspect
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest
from pydantic import ValidationError

from recexp.embeddings import EMBEDDINGS, TableRequest
from recexp.embeddings.full import FullOptions
from recexp.embeddings.hashing import HashingOptions
from recexp.embeddings.layers.hashing import collisions, hash_ids
from recexp.embeddings.mixed_dim import (
    MixedDimOptions,
    alpha_power_dims,
    assign_blocks,
    equal_mass_sizes,
    plan_blocks,
)
from recexp.embeddings.quotient_remainder import QuotientRemainderOptions, resolve_buckets
from recexp.errors import ConfigError

# 8 items: training ratings per item; items 2 and 7 were never rated.
COUNTS = np.array([10, 1, 0, 5, 2, 1, 1, 0])
# most rated first, ties by id: 0 (10), 3 (5), 4 (2), 1, 5, 6 (1 each), 2, 7 (0)


def request(vocab: int, dim: int = 8, counts: np.ndarray | None = None, table: str = "item"):
    return TableRequest(name="emb", table=table, vocab=vocab, dim=dim, counts=counts)  # type: ignore[arg-type]


def build(options, req):
    return EMBEDDINGS.get(options.strategy).fn(options, req)


def one_line_error(excinfo: pytest.ExceptionInfo) -> tuple[tuple, str]:
    first = excinfo.value.errors()[0]
    return first["loc"], first["msg"]


def test_registry_fills_without_keras():
    code = (
        "import sys, recexp.embeddings as e; "
        "assert e.EMBEDDINGS.names() == ['full', 'hashing', 'mixed_dim', 'quotient_remainder']; "
        "assert 'keras' not in sys.modules and 'tensorflow' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- quotient_remainder ---------------------------------------------------------------------


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


def test_qr_keras_io_sizing_and_default_buckets():
    # seed 002: 6040 users, compression 50 -> 120 buckets, two 120-row tables
    assert resolve_buckets(QuotientRemainderOptions(compression=50), request(6040)) == (120, 120)
    assert resolve_buckets(
        QuotientRemainderOptions(num_buckets=120, sizing="compact"), request(6040)
    ) == (120, 51)
    assert resolve_buckets(QuotientRemainderOptions(), request(10)) == (4, 4)  # ceil(sqrt 10)


@pytest.mark.parametrize("combiner", ["multiply", "add", "concat"])
def test_qr_shapes_and_distinct_vectors(combiner):
    layer = build(QuotientRemainderOptions(num_buckets=3, combiner=combiner), request(9, dim=6))
    out = np.asarray(layer(np.arange(9).reshape(3, 3)))
    assert out.shape == (3, 3, 6)
    assert len({row.tobytes() for row in out.reshape(9, 6)}) == 9
    assert layer.quotient_embeddings.shape == (3, 3 if combiner == "concat" else 6)


def test_qr_too_few_buckets_is_one_line_config_error():
    with pytest.raises(ConfigError) as err:
        build(QuotientRemainderOptions(num_buckets=3), request(10, table="user"))
    assert str(err.value) == (
        "embedding.user.num_buckets: 3 buckets give 10 ids 4 quotients but sizing keras_io "
        "keeps 3 quotient rows, so ids would share vectors; use num_buckets >= 4 or "
        "sizing: compact (got 3)"
    )
    with pytest.raises(ConfigError, match=r"compression: compression leaves no bucket .* \(got 50"):
        build(QuotientRemainderOptions(compression=50), request(10))
    with pytest.raises(ConfigError, match="num_buckets: more buckets than the 10 ids"):
        build(QuotientRemainderOptions(num_buckets=11, sizing="compact"), request(10))


def test_qr_bad_options():
    with pytest.raises(ValidationError) as err:
        QuotientRemainderOptions(num_buckets=4, compression=2)
    assert one_line_error(err)[1] == (
        "Value error, give num_buckets or compression, not both "
        "(got num_buckets=4, compression=2.0)"
    )
    with pytest.raises(ValidationError, match="combiner concat needs an even dim"):
        QuotientRemainderOptions(combiner="concat", dim=7)
    with pytest.raises(ConfigError, match="combiner: combiner concat needs an even dim"):
        build(QuotientRemainderOptions(combiner="concat"), request(10, dim=7))


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


# --- mixed_dim ------------------------------------------------------------------------------


def test_mixed_dim_blocks_follow_training_frequency():
    # blocks of 2 and 3 ids, the rest last: {0, 3} | {4, 1, 5} | {6, 2, 7}
    block = assign_blocks(COUNTS, 8, [2, 3, 3])
    assert block.tolist() == [0, 1, 2, 0, 1, 1, 2, 2]
    # blocks of 2 and 5 would put unrated item 2 in block 1: it goes to the last block
    block = assign_blocks(COUNTS, 8, [2, 5, 1])
    assert block.tolist() == [0, 1, 2, 0, 1, 1, 1, 2]
    # no counts: id order
    assert assign_blocks(None, 5, [2, 3]).tolist() == [0, 0, 1, 1, 1]


def test_mixed_dim_alpha_rule_by_hand():
    # 20 ratings in 2 blocks of ~10: item 0 alone holds 10, so sizes 1 and 7
    assert equal_mass_sizes(COUNTS, 8, 2) == [1, 7]
    # 8 * (1 / 7) ** 0.5 = 3.02 -> 3
    assert alpha_power_dims([1, 7], 8, 0.5) == [8, 3]
    # 3 blocks: cuts at 20/3 (after item 0) and 40/3 (after item 3): sizes 1, 1, 6
    assert equal_mass_sizes(COUNTS, 8, 3) == [1, 1, 6]
    # 16 * (1/6) ** 0.5 = 6.53 -> 7; (1/6) ** 1 * 16 = 2.67 -> 3; tiny blocks keep >= 1 column
    assert alpha_power_dims([1, 1, 6], 16, 0.5) == [16, 16, 7]
    assert alpha_power_dims([1, 6], 16, 1.0) == [16, 3]
    assert alpha_power_dims([1, 1000], 4, 1.0) == [4, 1]
    block, dims = plan_blocks(MixedDimOptions(num_blocks=2, alpha=0.5), request(8, 8, COUNTS), 8)
    assert block.tolist() == [0, 1, 1, 1, 1, 1, 1, 1]
    assert dims == [8, 3]


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

    from recexp.cli import _blocks

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


def test_mixed_dim_bad_settings():
    with pytest.raises(ValidationError) as err:
        MixedDimOptions(blocks=[2, 3], dims=[8, 8, 2])
    assert one_line_error(err) == (
        ("dims",),
        "Value error, dims must decrease from each block to the next",
    )
    with pytest.raises(ValidationError) as err:
        MixedDimOptions(alpha=-0.5)
    assert one_line_error(err) == (("alpha",), "Value error, alpha must be >= 0")
    with pytest.raises(ValidationError, match="dims needs one entry per block: 2 blocks"):
        MixedDimOptions(blocks=[2, 3], dims=[8, 4])
    with pytest.raises(ValidationError, match="give blocks with dims, or alpha with num_blocks"):
        MixedDimOptions(blocks=[2], dims=[8, 4], alpha=0.3)
    with pytest.raises(ValidationError, match="blocks and dims go together"):
        MixedDimOptions(blocks=[2])
    with pytest.raises(ValidationError, match=r"qr_compression needs one entry per block \(3\)"):
        MixedDimOptions(blocks=[2, 3], dims=[8, 4, 2], qr_compression=[1, 4])
    with pytest.raises(ValidationError, match=r"qr_compression needs one entry per block \(2\)"):
        MixedDimOptions(num_blocks=2, qr_compression=[1, 1, 4])
    with pytest.raises(ValidationError) as err:
        MixedDimOptions(blocks=[2], dims=[8, 4], qr_compression=[1, 0.5])
    assert one_line_error(err) == (
        ("qr_compression",),
        "Value error, each qr_compression must be >= 1 (1 = plain rows)",
    )
    with pytest.raises(ConfigError) as cerr:
        build(MixedDimOptions(blocks=[5, 3], dims=[8, 4, 2]), request(8, 8, COUNTS))
    assert str(cerr.value) == (
        "embedding.item.blocks: blocks hold 8 ids but the item vocabulary has 8, "
        "leaving none for the last block (got [5, 3])"
    )
    with pytest.raises(
        ConfigError, match=r"embedding.item.dims: dims may not exceed the base dim 4"
    ):
        build(MixedDimOptions(blocks=[5], dims=[8, 2]), request(8, 4, COUNTS))
    with pytest.raises(ConfigError, match="num_blocks: more blocks than the 8 ids"):
        build(MixedDimOptions(num_blocks=9), request(8, 4, COUNTS))


def test_mixed_dim_defaults_and_base_dim_alias():
    options = MixedDimOptions.model_validate({"strategy": "mixed_dim", "base_dim": 32})
    assert (options.dim, options.alpha, options.num_blocks) == (32, 0.5, 3)
    assert MixedDimOptions.model_validate(options.model_dump()) == options


# --- hashing --------------------------------------------------------------------------------


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


# --- every strategy: config, save/load, inside the model families ---------------------------

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


def test_every_registered_strategy_is_covered():
    assert sorted(STRATEGIES) == EMBEDDINGS.names()


@pytest.mark.parametrize("name", [n for n in VARIANTS if n != "full"])
def test_layer_config_has_every_argument(name):
    layer = build(VARIANTS[name], request(8, 8, COUNTS))
    args = set(inspect.signature(type(layer).__init__).parameters) - {"self", "kwargs"}
    config = layer.get_config()
    assert args <= set(config)
    clone = type(layer).from_config(config)
    assert clone.get_config() == config


@pytest.mark.parametrize("name", list(VARIANTS))
def test_layer_save_and_load(name, tmp_path):
    import keras

    ids = keras.Input(shape=(2,), dtype="int32")
    model = keras.Model(ids, build(VARIANTS[name], request(8, 8, COUNTS))(ids))
    x = np.array([[0, 7], [3, 2], [5, 5]])
    before = model.predict(x, verbose=0)
    assert before.shape == (3, 2, 8)
    model.save(tmp_path / "model.keras")
    after = keras.saving.load_model(tmp_path / "model.keras").predict(x, verbose=0)
    np.testing.assert_array_equal(before, after)


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


@pytest.mark.parametrize("family", ["mf", "neumf"])
@pytest.mark.parametrize("name", [n for n in STRATEGIES if n != "full"])
def test_fit_one_epoch_in_family_and_reload(family, name, tmp_path):
    import keras

    from recexp.models import MODELS

    entry = MODELS.get(family)
    dims = {"dim": 8} if family == "mf" else {"gmf_dim": 8, "mlp_dim": 8, "mlp_layers": [8]}
    user_counts = np.bincount(np.arange(96) % 12, minlength=12)
    strategy = STRATEGIES[name]
    if name == "mixed_dim":  # fewer weights, so a faster compile; 3 blocks are tested above
        # the rare block stored with the quotient-remainder trick (QR and MD together)
        strategy = MixedDimOptions(blocks=[3], dims=[8, 4], sizing="compact", qr_compression=[1, 2])
    assert entry.options is not None
    model = entry.fn(entry.options(**dims), context(strategy, strategy, user_counts=user_counts))
    rng = np.random.default_rng(0)
    x = {
        "user_input": (np.arange(96) % 12).reshape(-1, 1).astype("int32"),
        "item_input": rng.choice(8, size=(96, 1), p=COUNTS / COUNTS.sum()).astype("int32"),
    }
    y = rng.integers(1, 6, size=(96, 1)).astype("float32")
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    before = np.asarray(model(x))
    model.save(tmp_path / "model.keras")
    after = np.asarray(keras.saving.load_model(tmp_path / "model.keras")(x))
    np.testing.assert_array_equal(before, after)


# --- seed 002: parameter counts and the memory report ---------------------------------------


def seed_002_model(user, item):
    from recexp.models import MODELS
    from recexp.models.mf import MFOptions

    counts = np.random.default_rng(2).integers(1, 3000, size=3706)
    counts[-50:] = 0  # 50 movies unrated in training: they join the last block
    options = MFOptions(dim=64, use_bias=False, global_mean=False, output="sigmoid_scaled")
    return MODELS.get("mf").fn(options, context(user, item, 6040, 3706, item_counts=counts))


def test_seed_002_parameter_counts_and_report():
    from recexp.embeddings.report import embedding_report

    baseline = seed_002_model(FullOptions(), FullOptions())
    assert baseline.count_params() == 623_744

    users = QuotientRemainderOptions(compression=50)  # 6040 // 50 = 120 buckets
    movies = MixedDimOptions(blocks=[400, 1300], dims=[64, 32, 16])
    efficient = seed_002_model(users, movies)
    assert efficient.count_params() == 117_968

    report = {entry["name"]: entry for entry in embedding_report(efficient)}
    assert report["user_embedding"] == {
        "name": "user_embedding",
        "strategy": "quotient_remainder",
        "vocabulary": 6040,
        "rows": 240,
        "dim": 64,
        "parameters": 15_360,
        "bytes": 61_440,
        "compression": round(6040 * 64 / 15_360, 4),
    }
    movie = report["item_embedding"]
    assert movie["block_sizes"] == [400, 1300, 2006] and movie["block_dims"] == [64, 32, 16]
    assert movie["block_rows"] == [401, 1301, 2007]  # keras-io's spare row per block
    # (401 x 64) + (1301 x 32 + 32 x 64 + 64) + (2007 x 16 + 16 x 64 + 64)
    assert movie["parameters"] == 102_608 and movie["bytes"] == 4 * 102_608
    assert movie["rows"] == 3709

    compact = seed_002_model(
        users.model_copy(update={"sizing": "compact"}),
        movies.model_copy(update={"sizing": "compact"}),
    )
    assert compact.count_params() == 51 * 64 + 120 * 64 + 102_368

    full = {entry["name"]: entry for entry in embedding_report(baseline)}
    assert full["user_embedding"]["compression"] == 1.0
    assert full["item_embedding"]["bytes"] == 3706 * 64 * 4


def test_report_counts_hash_collisions():
    import keras

    from recexp.embeddings.report import embedding_report

    ids = keras.Input(shape=(1,), dtype="int32")
    layer = build(HashingOptions(num_bins=4), request(10, dim=2))
    (entry,) = embedding_report(keras.Model(ids, layer(ids)))
    assert entry["strategy"] == "hashing" and entry["rows"] == 4 and entry["parameters"] == 8
    assert entry["compression"] == 2.5
    assert (entry["colliding_ids"], entry["bins_used"]) == tuple(collisions(10, 4).values())
