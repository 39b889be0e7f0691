"""LazyAdam / SparseAdagrad / RowwiseAdagrad: hand-computed steps, dense parity, clipping,
fit, config."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from recexp.training.rowwise_adagrad import RowwiseAdagrad  # noqa: E402
from recexp.training.sparse_optimizers import (  # noqa: E402
    LazyAdam,
    SparseAdagrad,
    deduplicate_indexed_slices,
    subtract_rows,
)

LR, B1, B2, EPS = 0.01, 0.9, 0.999, 1e-7
TOUCHED, UNTOUCHED = [1, 3], [0, 2, 4]
# Row 1 occurs twice: its gradient is the sum of both occurrences.
IDS = np.array([[1], [3], [1]], dtype="int32")
Y = np.array([[1.0], [-1.0], [0.5]], dtype="float32")


def tiny_model(seed: int = 0):
    keras.utils.set_random_seed(seed)
    ids = keras.Input((1,), dtype="int32")
    vec = keras.layers.Flatten()(
        keras.layers.Embedding(5, 2, embeddings_initializer="uniform", name="emb")(ids)
    )
    return keras.Model(ids, keras.layers.Dense(1, name="dense")(vec))


def twin_models():
    a, b = tiny_model(), tiny_model()
    b.set_weights(a.get_weights())
    return a, b


def grads_of(model, ids=IDS, y=Y):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(ids) - y))
    return tape.gradient(loss, model.trainable_variables)


def step(model, optimizer, ids=IDS, dense=False):
    """One step; ``dense=True`` feeds the densified gradient (the reference runs).

    Keras 3.15's own Adam/Adagrad square an ``IndexedSlices`` gradient per occurrence,
    so a repeated id adds ``g1**2 + g2**2`` to the second moment instead of
    ``(g1 + g2)**2``: the references must get the dense gradient to be true Adam/Adagrad.
    """
    grads = grads_of(model, ids, Y[: len(ids)])
    assert isinstance(grads[0], tf.IndexedSlices)  # the embedding gradient is sparse
    if dense:
        grads = [tf.convert_to_tensor(g) for g in grads]
    optimizer.apply(grads, model.trainable_variables)
    return tf.convert_to_tensor(grads[0]).numpy()  # dense, duplicates summed


def slot(optimizer, slots, variable):
    return slots[optimizer._get_variable_index(variable)].numpy()


def test_deduplicate_sums_repeated_rows():
    g = tf.IndexedSlices(
        tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]),
        tf.constant([4, 1, 4]),
        tf.constant([5, 2]),
    )
    d = deduplicate_indexed_slices(g)
    assert sorted(d.indices.numpy().tolist()) == [1, 4]
    np.testing.assert_allclose(tf.convert_to_tensor(d).numpy()[[1, 4]], [[3, 4], [6, 8]])


@pytest.mark.parametrize("weight_decay", [None, 0.1])
def test_lazy_adam_matches_hand_computation(weight_decay):
    lazy_model, ref_model = twin_models()
    lazy = LazyAdam(learning_rate=LR, beta_1=B1, beta_2=B2, epsilon=EPS, weight_decay=weight_decay)
    ref = keras.optimizers.Adam(
        learning_rate=LR, beta_1=B1, beta_2=B2, epsilon=EPS, weight_decay=weight_decay
    )
    emb = lazy_model.get_layer("emb").embeddings
    w = emb.numpy().copy()
    w0 = w.copy()
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t in (1, 2):
        g = step(lazy_model, lazy)
        step(ref_model, ref, dense=True)
        assert not g[UNTOUCHED].any()
        r = TOUCHED
        if weight_decay:
            w[r] -= w[r] * weight_decay * LR
        m[r] = B1 * m[r] + (1 - B1) * g[r]
        v[r] = B2 * v[r] + (1 - B2) * g[r] ** 2
        w[r] -= LR * np.sqrt(1 - B2**t) / (1 - B1**t) * m[r] / (np.sqrt(v[r]) + EPS)

        got_w = emb.numpy()
        got_m = slot(lazy, lazy._momentums, emb)
        got_v = slot(lazy, lazy._velocities, emb)
        # Untouched rows: weights bit-identical, moments still exactly zero.
        np.testing.assert_array_equal(got_w[UNTOUCHED], w0[UNTOUCHED])
        assert not got_m[UNTOUCHED].any() and not got_v[UNTOUCHED].any()
        np.testing.assert_allclose(got_w[r], w[r], rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(got_m[r], m[r], rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(got_v[r], v[r], rtol=1e-5, atol=1e-10)

    # Dense layer: exactly keras.optimizers.Adam (weight decay included).
    for name in ("kernel", "bias"):
        np.testing.assert_array_equal(
            getattr(lazy_model.get_layer("dense"), name).numpy(),
            getattr(ref_model.get_layer("dense"), name).numpy(),
        )
    if weight_decay is None:
        # Same rows every step: lazy and dense Adam agree on the table too.
        np.testing.assert_allclose(
            emb.numpy(), ref_model.get_layer("emb").embeddings.numpy(), rtol=1e-6
        )


def test_lazy_adam_leaves_rows_outside_the_batch_alone():
    lazy_model, ref_model = twin_models()
    lazy, ref = LazyAdam(learning_rate=LR), keras.optimizers.Adam(learning_rate=LR)
    step(lazy_model, lazy)  # rows {1, 3}
    step(ref_model, ref, dense=True)
    lazy_emb = lazy_model.get_layer("emb").embeddings
    ref_emb = ref_model.get_layer("emb").embeddings
    before = lazy_emb.numpy().copy()
    m_before = slot(lazy, lazy._momentums, lazy_emb)
    step(lazy_model, lazy, ids=IDS[:1])  # row 1 only
    step(ref_model, ref, ids=IDS[:1], dense=True)
    # Dense Adam keeps moving row 3 on its momentum; LazyAdam does not touch it.
    np.testing.assert_array_equal(lazy_emb.numpy()[3], before[3])
    np.testing.assert_array_equal(slot(lazy, lazy._momentums, lazy_emb)[3], m_before[3])
    assert not np.allclose(ref_emb.numpy()[3], before[3])


@pytest.mark.parametrize("initial", [0.1, 0.0])
def test_sparse_adagrad_matches_hand_computation_and_dense_adagrad(initial):
    sparse_model, ref_model = twin_models()
    opt = SparseAdagrad(learning_rate=LR, initial_accumulator_value=initial, epsilon=EPS)
    ref = keras.optimizers.Adagrad(learning_rate=LR, initial_accumulator_value=initial, epsilon=EPS)
    emb = sparse_model.get_layer("emb").embeddings
    w = emb.numpy().copy()
    w0 = w.copy()
    acc = np.full_like(w, initial)
    for _ in (1, 2):
        g = step(sparse_model, opt)
        # Reference: Keras Adagrad fed the *dense* gradient (duplicates summed).
        step(ref_model, ref, dense=True)
        r = TOUCHED
        acc[r] += g[r] ** 2
        w[r] -= LR * g[r] / np.sqrt(acc[r] + EPS)
        np.testing.assert_array_equal(emb.numpy()[UNTOUCHED], w0[UNTOUCHED])
        np.testing.assert_allclose(emb.numpy()[r], w[r], rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(slot(opt, opt._accumulators, emb), acc, rtol=1e-5)
    # Sparse == dense Adagrad on every row (zero-gradient rows do not move in either).
    for a, b in zip(sparse_model.get_weights(), ref_model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)
    for name in ("kernel", "bias"):
        np.testing.assert_array_equal(
            getattr(sparse_model.get_layer("dense"), name).numpy(),
            getattr(ref_model.get_layer("dense"), name).numpy(),
        )


@pytest.mark.parametrize("initial", [0.1, 0.0])
def test_rowwise_adagrad_keeps_one_accumulator_a_row_sparse_or_dense(initial):
    """Hand-computed steps (row 1 repeated: its gradient summed first); the same optimizer
    fed the densified gradient ends with the same weights and accumulators."""
    sparse_model, dense_model = twin_models()
    kw = {"learning_rate": LR, "initial_accumulator_value": initial, "epsilon": EPS}
    opt, dense_opt = RowwiseAdagrad(**kw), RowwiseAdagrad(**kw)
    emb = sparse_model.get_layer("emb").embeddings
    w = emb.numpy().copy()
    w0 = w.copy()
    acc = np.full((5, 1), initial)
    for _ in (1, 2):
        g = step(sparse_model, opt)
        step(dense_model, dense_opt, dense=True)
        r = TOUCHED
        acc[r] += np.mean(g[r] ** 2, axis=1, keepdims=True)
        w[r] -= LR * g[r] / np.sqrt(acc[r] + EPS)
        np.testing.assert_array_equal(emb.numpy()[UNTOUCHED], w0[UNTOUCHED])
        np.testing.assert_allclose(emb.numpy()[r], w[r], rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(slot(opt, opt._accumulators, emb), acc, rtol=1e-5)
    for a, b in zip(sparse_model.get_weights(), dense_model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)
    for a, b in zip(opt._accumulators, dense_opt._accumulators, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    dense = sparse_model.get_layer("dense")
    shapes = [tuple(slot(opt, opt._accumulators, v).shape) for v in (emb, dense.kernel, dense.bias)]
    assert shapes == [(5, 1), (2, 1), (1,)]  # a number a row; the bias element-wise


def test_dense_adagrad_nan_where_sparse_is_not():
    """initial_accumulator_value + epsilon == 0: dense divides 0 by 0 on untouched rows."""
    sparse_model, ref_model = twin_models()
    kw = {"learning_rate": LR, "initial_accumulator_value": 0.0, "epsilon": 0.0}
    step(sparse_model, SparseAdagrad(**kw))
    step(ref_model, keras.optimizers.Adagrad(**kw), dense=True)
    assert np.isfinite(sparse_model.get_layer("emb").embeddings.numpy()).all()
    assert np.isnan(ref_model.get_layer("emb").embeddings.numpy()[UNTOUCHED]).all()


@pytest.mark.parametrize(
    "clip", [{"clipnorm": 0.05}, {"clipvalue": 0.02}, {"global_clipnorm": 0.05}]
)
def test_clipping_sees_the_merged_gradient_and_stays_sparse(clip):
    """One step: lazy == dense Adam, so sparse + clip must equal dense grad + clip."""
    lazy_model, ref_model = twin_models()
    lazy = LazyAdam(learning_rate=LR, **clip)
    seen = []
    original = lazy.update_step

    def spy(gradient, variable, learning_rate):
        seen.append(type(gradient))
        return original(gradient, variable, learning_rate)

    lazy.update_step = spy
    step(lazy_model, lazy)
    step(ref_model, keras.optimizers.Adam(learning_rate=LR, **clip), dense=True)
    assert seen[0] is tf.IndexedSlices
    for a, b in zip(lazy_model.get_weights(), ref_model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)


def mf_data(n=512, n_users=40, n_items=30, seed=0):
    rng = np.random.default_rng(seed)
    users = rng.integers(0, n_users, (n, 1)).astype("int32")
    items = rng.integers(0, n_items, (n, 1)).astype("int32")
    pu, qi = rng.normal(size=(n_users, 3)), rng.normal(size=(n_items, 3))
    y = (pu[users[:, 0]] * qi[items[:, 0]]).sum(1, keepdims=True).astype("float32")
    return [users, items], y


def mf_model(n_users=40, n_items=30):
    init = keras.initializers.RandomNormal(stddev=0.3)
    u, i = keras.Input((1,), dtype="int32"), keras.Input((1,), dtype="int32")
    pu = keras.layers.Flatten()(keras.layers.Embedding(n_users, 8, embeddings_initializer=init)(u))
    qi = keras.layers.Flatten()(keras.layers.Embedding(n_items, 8, embeddings_initializer=init)(i))
    return keras.Model([u, i], keras.layers.Dot(axes=1)([pu, qi]))


@pytest.mark.parametrize(
    ("make", "jit"),
    [
        (lambda: LazyAdam(learning_rate=0.05), False),
        # XLA: the scatter updates compile too.
        (lambda: LazyAdam(learning_rate=0.05, weight_decay=1e-4, global_clipnorm=5.0), True),
        (lambda: SparseAdagrad(learning_rate=0.3), False),
        (lambda: RowwiseAdagrad(learning_rate=0.3), False),
    ],
)
def test_fit_reduces_loss(make, jit):
    keras.utils.set_random_seed(1)
    x, y = mf_data()
    model = mf_model()
    model.compile(optimizer=make(), loss="mse", jit_compile=jit)
    history = model.fit(x, y, batch_size=64, epochs=5, verbose=0)
    losses = history.history["loss"]
    assert np.isfinite(losses).all()
    assert losses[-1] < 0.6 * losses[0]


@pytest.mark.parametrize(
    "make",
    [
        lambda: LazyAdam(learning_rate=0.05, global_clipnorm=5.0),
        lambda: RowwiseAdagrad(learning_rate=0.3, clipvalue=0.05),
    ],
)
def test_xla_trains_as_the_graph_does_when_clipping(make):
    """Clipping merges repeated ids before update_step; merging again under XLA came back
    padded with a repeated id whose stale slot rows were written back (loss 1.11 vs 0.41)."""
    losses = {}
    for jit in (False, True):
        keras.utils.set_random_seed(1)
        x, y = mf_data()
        model = mf_model()
        model.compile(optimizer=make(), loss="mse", jit_compile=jit)
        losses[jit] = model.fit(x, y, batch_size=64, epochs=3, verbose=0).history["loss"]
    np.testing.assert_allclose(losses[True], losses[False], rtol=1e-4)


def test_subtract_rows_writes_whole_rows_with_scatter_sub_numbers():
    table = tf.Variable(np.random.default_rng(0).normal(size=(6, 3)).astype("float32"))
    expected = table.numpy()
    indices = tf.constant([4, 0, 2])
    delta = tf.constant(np.arange(9, dtype="float32").reshape(3, 3) / 7)
    expected[[4, 0, 2]] -= delta.numpy()

    update = tf.function(lambda: subtract_rows(table, indices, delta))
    update()
    np.testing.assert_array_equal(table.numpy(), expected)
    ops = {op.type for op in update.get_concrete_function().graph.get_operations()}
    assert "ResourceScatterUpdate" in ops and "ResourceScatterSub" not in ops


@pytest.mark.parametrize(
    "opt",
    [
        LazyAdam(learning_rate=0.003, beta_1=0.8, beta_2=0.99, epsilon=1e-6, weight_decay=0.01),
        SparseAdagrad(
            learning_rate=0.05, initial_accumulator_value=0.2, epsilon=1e-6, clipnorm=1.0
        ),
        RowwiseAdagrad(learning_rate=0.1, initial_accumulator_value=0.05, weight_decay=0.01),
    ],
)
def test_config_round_trip(opt):
    config = opt.get_config()
    clone = type(opt).from_config(config)
    assert type(clone) is type(opt)
    assert clone.get_config() == config
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(opt))
    assert type(restored) is type(opt)
    assert restored.get_config() == config
    assert keras.saving.get_registered_name(type(opt)) == f"recexp>{type(opt).__name__}"
