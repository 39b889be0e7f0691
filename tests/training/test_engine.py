"""The compiled engine and the row lookup behind every table."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from recexp.config import load_spec
from recexp.experiment import run_experiment


def test_full_embedding_reads_rows_only_and_matches_keras():
    import keras

    from recexp.embeddings.layers import FullEmbedding

    ours = FullEmbedding(10, 3)
    ref = keras.layers.Embedding(10, 3)
    ids = np.array([[1], [7], [1]], np.int32)
    ours.build((None, 1))
    ref.build((None, 1))
    ref.set_weights(ours.get_weights())
    np.testing.assert_array_equal(ours(ids), ref(ids))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(ours(ids))
    (grad,) = tape.gradient(loss, [ours.embeddings.value])
    assert isinstance(grad, tf.IndexedSlices)  # sparse: the optimizer touches 2 rows, not 10
    assert sorted(grad.indices.numpy().tolist()) == [1, 1, 7]


def test_compiled_engine_matches_plain_fit(tiny_spec, tmp_path):
    """Same loss, optimizer and data: the two engines land on the same error."""
    rmse = {}
    for engine in ("compiled", "keras"):
        config = load_spec(
            tiny_spec,
            [f"training.engine={engine}", "training.max_epochs=6", "optimizer.learning_rate=0.02"],
        )
        run = run_experiment(config, tmp_path / engine, quiet=True)
        history = pd.read_csv(run.path / "history.csv")
        assert len(history) == 6 and history["loss"].iloc[-1] < history["loss"].iloc[0]
        rmse[engine] = json.loads((run.path / "metrics.json").read_text())["test"]["rmse"]
    assert rmse["compiled"] == pytest.approx(rmse["keras"], abs=0.05)


def test_learning_rate_scaling_and_warmup(tiny_spec, tmp_path):
    """320 training ratings, batch 64: 5 steps an epoch; warm-up over 2 epochs = 10 steps."""
    config = load_spec(
        tiny_spec,
        [
            "optimizer.learning_rate=0.01",
            "training.lr_scaling=sqrt",
            "training.lr_base_batch_size=16",
            "training.warmup_epochs=2",
            "training.max_epochs=3",
            "training.early_stopping=null",
        ],
    )
    run = run_experiment(config, tmp_path, quiet=True)
    peak = 0.01 * (64 / 16) ** 0.5  # sqrt scaling of the batch-16 learning rate
    lr = pd.read_csv(run.path / "history.csv")["learning_rate"].tolist()
    # logged after each epoch, at optimizer steps 5, 10, 15: (step + 1) / 10 of the peak, capped
    assert lr == pytest.approx([0.6 * peak, peak, peak], rel=1e-5)


def test_steps_per_epoch_bounds_each_epoch(tiny_spec, tmp_path):
    """320 training ratings, batch 64 = 5 steps; steps_per_epoch 2 runs 2 per epoch."""
    config = load_spec(
        tiny_spec,
        ["training.steps_per_epoch=2", "training.max_epochs=3", "training.early_stopping=null"],
    )
    from recexp.data import prepare
    from recexp.experiment import train_data
    from recexp.models.build import build_recommender

    data = prepare(config.dataset, config.seed)
    model = build_recommender(config, data)
    result = model.fit(train_data(config, data), [])
    assert int(model.model.optimizer.iterations.numpy()) == 6
    assert len(result.history) == 3 and result.ratings_per_second > 0


def test_bounded_epochs_walk_on_through_one_shuffle():
    """500 ratings, batch 32 = 16 batches; 5 per epoch: epochs 1-3 take batches 0-4, 5-9,
    10-14 of one order (every row once), epoch 4 reshuffles (1 batch left, 5 wanted)."""
    from recexp.training.engine import CompiledEpochs

    model, x, y = _tiny_mf(500)
    engine = CompiledEpochs(model, x, y, batch_size=32, seed=3, max_steps=5)
    orders, cursors = [], []
    for _ in range(4):
        engine.run_epoch()
        orders.append(engine.order.numpy().copy())
        cursors.append(engine.cursor)
    assert cursors == [5, 10, 15, 5] and int(engine.shuffles.numpy()) == 2
    np.testing.assert_array_equal(orders[0], orders[2])  # one order for epochs 1-3
    assert not np.array_equal(orders[2], orders[3])
    assert sorted(orders[0].tolist()) == list(range(500))
    assert int(model.optimizer.iterations.numpy()) == 20


def test_rows_stay_paired_through_in_place_shuffles():
    """The engine holds the rows in the shuffled order (batches are slices): after each of
    three passes row i is the caller's row order[i], codes and rating together, and the
    order is the seeded shuffle each pass always had (the numbers of earlier runs hold)."""
    import tensorflow as tf

    from recexp.training.engine import CompiledEpochs

    model, x, y = _tiny_mf(100)
    engine = CompiledEpochs(model, x, y, batch_size=64, seed=5)
    for shuffles in (1, 2, 3):
        engine.run_epoch()
        order = engine.order.numpy()
        seeded = tf.random.experimental.stateless_shuffle(tf.range(100), [5, shuffles])
        np.testing.assert_array_equal(order, seeded.numpy())
        for key, column in x.items():
            np.testing.assert_array_equal(engine.x[key].numpy(), column[order])
        np.testing.assert_array_equal(engine.y.numpy().reshape(-1), y.reshape(-1)[order])
    assert int(engine.shuffles.numpy()) == 3 and not np.array_equal(order, np.arange(100))
    # A gather *on* a resource variable turns it copy-on-read: every step's slice would then
    # copy the whole array (1.85x slower epochs at Jester's shape). The shuffle reads first.
    ops = {op.type for op in engine._new_order.get_concrete_function().graph.get_operations()}
    assert "ResourceGather" not in ops and "GatherV2" in ops


def _tiny_mf(n: int, seed: int = 3) -> tuple:
    """A dim-4 MF over 12 users x 8 items and ``n`` random ratings (Adam)."""
    import keras

    from recexp.config import TrainingOptions
    from recexp.models.build import make_recommender
    from recexp.models.mf import MFOptions
    from recexp.training.optimizers import OPTIMIZERS

    from ..models.test_families import context

    rng = np.random.default_rng(0)
    x = {
        "user_input": rng.integers(0, 12, (n, 1)).astype("int32"),
        "item_input": rng.integers(0, 8, (n, 1)).astype("int32"),
    }
    y = rng.integers(1, 6, n).astype("float32")
    keras.utils.set_random_seed(seed)
    model = make_recommender(
        MFOptions(dim=4),
        context(),
        TrainingOptions(),
        OPTIMIZERS.get("adam").options(name="adam"),
        n,
    ).model
    return model, x, y


def test_an_epoch_in_bounded_graph_calls_gives_the_same_weights():
    """Ctrl-C is answered between graph calls; cutting an epoch into many calls (a call
    budget far below one step) changes nothing: same steps, same order, same weights."""
    from recexp.training.engine import CompiledEpochs

    weights, calls = {}, {}
    for budget in (1e9, 1e-9):
        model, x, y = _tiny_mf(500)
        engine = CompiledEpochs(model, x, y, batch_size=32, seed=3, call_seconds=budget)
        for _ in range(3):
            engine.run_epoch()
        weights[budget], calls[budget] = model.get_weights(), engine.calls
    assert engine.steps == 16 and calls[1e9] == 3 and calls[1e-9] >= 16  # one per epoch vs per step
    for a, b in zip(weights[1e9], weights[1e-9], strict=True):
        np.testing.assert_array_equal(a, b)
