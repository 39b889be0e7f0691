"""``lazy_adam`` with ``tables``: row-wise Adagrad on the looked-up tables, lazy Adam on the
rest (hand-computed), from the spec through the factory, lr scaling and saving."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from recexp.config import TrainingOptions, validate  # noqa: E402
from recexp.errors import ConfigError  # noqa: E402
from recexp.training.fit import compile_model  # noqa: E402
from recexp.training.optimizers import LazyAdamOptions, make_optimizer  # noqa: E402
from recexp.training.rowwise_adagrad import LazyAdamRowwiseTables  # noqa: E402
from recexp.training.sparse_optimizers import LazyAdam  # noqa: E402
from tests.training.test_sparse_optimizers import (  # noqa: E402
    EPS,
    TOUCHED,
    UNTOUCHED,
    slot,
    step,
    twin_models,
)

TABLE_LR, REST_LR = 0.3, 0.01


def test_tables_get_rowwise_adagrad_and_the_rest_lazy_adam():
    """Two steps (row 1 repeated: summed first): the table's touched rows follow row-wise
    Adagrad at the tables' rate and its other rows stay; after the first step (same
    gradients on both sides) the dense layer is where plain LazyAdam at the main rate puts
    it."""
    model, reference = twin_models()
    opt = LazyAdamRowwiseTables(
        table_learning_rate=TABLE_LR,
        table_initial_accumulator_value=0.01,
        table_epsilon=EPS,
        learning_rate=REST_LR,
    )
    emb, dense = model.get_layer("emb").embeddings, model.get_layer("dense")
    kernel0 = dense.kernel.numpy().copy()
    w = emb.numpy().copy()
    w0 = w.copy()
    acc = np.full((5, 1), 0.01)
    for n in (1, 2):
        g = step(model, opt)
        r = TOUCHED
        acc[r] += np.mean(g[r] ** 2, axis=1, keepdims=True)
        w[r] -= TABLE_LR * g[r] / np.sqrt(acc[r] + EPS)
        np.testing.assert_array_equal(emb.numpy()[UNTOUCHED], w0[UNTOUCHED])
        np.testing.assert_allclose(emb.numpy()[r], w[r], rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(slot(opt, opt._row_accumulators, emb), acc, rtol=1e-5)
        if n == 1:
            step(reference, LazyAdam(learning_rate=REST_LR))
            reference_dense = reference.get_layer("dense")
            for a, b in zip(dense.get_weights(), reference_dense.get_weights(), strict=True):
                np.testing.assert_allclose(a, b, rtol=1e-6)
            assert not np.allclose(dense.kernel.numpy(), kernel0)


def test_the_spec_builds_it_and_lr_scaling_scales_both_rates():
    options = LazyAdamOptions(
        learning_rate=0.004, tables={"learning_rate": 0.2, "initial_accumulator_value": 1e-5}
    )
    opt = make_optimizer(options)
    assert type(opt) is LazyAdamRowwiseTables
    assert (opt.table_learning_rate, opt.table_initial_accumulator_value) == (0.2, 1e-5)
    assert type(make_optimizer(LazyAdamOptions(learning_rate=0.004))) is LazyAdam

    model = twin_models()[0]
    training = TrainingOptions(batch_size=1024, lr_scaling="linear", lr_base_batch_size=256)
    compile_model(model, training, options, n_train=10_000)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.016)
    assert model.optimizer.table_learning_rate == pytest.approx(0.8)


def test_tables_is_lazy_adams_alone():
    spec = {
        "name": "t",
        "dataset": {"name": "synthetic"},
        "model": {"family": "mf"},
        "optimizer": {"name": "adam", "tables": {"learning_rate": 0.2}},
    }
    with pytest.raises(ConfigError, match="optimizer.tables"):
        validate(spec)


def test_config_round_trip():
    opt = LazyAdamRowwiseTables(table_learning_rate=0.15, table_epsilon=1e-6, learning_rate=0.02)
    config = opt.get_config()
    assert config["table_learning_rate"] == 0.15 and config["learning_rate"] == pytest.approx(0.02)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(opt))
    assert type(restored) is LazyAdamRowwiseTables
    assert restored.get_config() == config
