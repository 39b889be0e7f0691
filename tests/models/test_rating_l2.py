"""Per-rating L2 on the looked-up rows (``embedding_l2``) and the whole-table L2 warning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from recexp.cli import app
from recexp.config import validate
from recexp.memory import dense_l2_warning
from recexp.models.gmf import GMFOptions
from recexp.models.mlp import MLPOptions
from recexp.models.neumf import NeuMFOptions
from recexp.models.two_tower import TwoTowerOptions

from .test_families import N_ITEMS, N_USERS, build, context

L2 = 0.1
FAMILIES = {
    "gmf": GMFOptions(dim=3, embedding_l2=L2),
    "mlp": MLPOptions(dim=3, layers=[4], embedding_l2=L2),
    "neumf": NeuMFOptions(gmf_dim=3, mlp_dim=2, mlp_layers=[4], embedding_l2=L2),
    "two_tower": TwoTowerOptions(dim=3, layer_sizes=[4], use_features=False, embedding_l2=L2),
}
USERS = np.array([[0], [3], [3], [5]], "int32")
ITEMS = np.array([[1], [1], [2], [7]], "int32")


def _tables(model):
    """Every id embedding table of the model (nested towers included), by variable path."""
    return {
        v.path: v
        for v in model.trainable_variables
        if v.path.split("/")[-2].endswith("embedding") and len(v.shape) == 2
    }


def _expected_penalty(model) -> float:
    """By hand: l2 * sum over the batch of every looked-up row's squares / batch size."""
    total = 0.0
    for path, table in _tables(model).items():
        rows = np.asarray(table.numpy())[(USERS if "user" in path else ITEMS).reshape(-1)]
        total += float((rows**2).sum())
    return L2 * total / len(USERS)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_penalty_is_l2_times_looked_up_squares_per_rating(family):
    import tensorflow as tf

    model = build(FAMILIES[family], context())
    x = {"user_input": tf.constant(USERS), "item_input": tf.constant(ITEMS)}
    model(x, training=True)
    assert len(_tables(model)) in (2, 4)
    penalty = float(sum(float(loss) for loss in model.losses))
    assert penalty == pytest.approx(_expected_penalty(model), rel=1e-5)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_gradient_of_the_tables_stays_sparse(family):
    import tensorflow as tf

    model = build(FAMILIES[family], context())
    x = {"user_input": tf.constant(USERS), "item_input": tf.constant(ITEMS)}
    tables = list(_tables(model).values())
    with tf.GradientTape() as tape:
        out = model(x, training=True)
        loss = tf.reduce_mean(out**2) + tf.add_n(model.losses)
    grads = tape.gradient(loss, [t.value for t in tables])
    for table, grad in zip(tables, grads, strict=True):
        assert isinstance(grad, tf.IndexedSlices), table.path
        ids = USERS if "user" in table.path else ITEMS
        assert set(np.asarray(grad.indices).tolist()) <= set(ids.reshape(-1).tolist())


def test_penalty_gradient_by_hand():
    """Only the penalty (the model's output weights zeroed): d/dp_u = 2 * l2 * count_u * p_u / B."""
    import tensorflow as tf

    model = build(GMFOptions(dim=3, embedding_l2=L2), context())
    model.get_layer("prediction").set_weights([np.zeros((3, 1), "float32"), np.zeros(1)])
    table = model.get_layer("user_embedding").trainable_variables[0]
    x = {"user_input": tf.constant(USERS), "item_input": tf.constant(ITEMS)}
    with tf.GradientTape() as tape:
        model(x, training=True)
        loss = tf.add_n(model.losses)
    grad = tf.convert_to_tensor(tape.gradient(loss, table.value))
    weights = np.asarray(table.numpy())
    counts = np.bincount(USERS.reshape(-1), minlength=N_USERS)[:, None]
    np.testing.assert_allclose(grad, 2 * L2 * counts * weights / len(USERS), rtol=1e-5)


def test_zero_embedding_l2_adds_no_loss():
    import tensorflow as tf

    model = build(NeuMFOptions(gmf_dim=3, mlp_dim=2, mlp_layers=[4]), context())
    model({"user_input": tf.constant(USERS), "item_input": tf.constant(ITEMS)}, training=True)
    assert not model.losses


# --- per row: whole-table L2 in expectation, still sparse ----------------------------------

#: the batch is the whole training set: ids counted from it
COUNTS = (
    np.bincount(USERS.reshape(-1), minlength=N_USERS),
    np.bincount(ITEMS.reshape(-1), minlength=N_ITEMS),
)


def per_row(options):
    return options.model_copy(update={"embedding_l2_per": "row"})


@pytest.mark.parametrize("family", list(FAMILIES))
def test_per_row_penalty_on_the_whole_training_set_is_the_whole_table_l2(family):
    """Weights n / count: over a batch holding every training rating, a row seen c times
    adds c * (n / c) * ||e||^2 / n, so the penalty is l2 * sum of the seen rows' squares --
    Keras' L2 on those tables. Users 0, 3, 5 and items 1, 2, 7 are the seen rows."""
    import tensorflow as tf

    model = build(per_row(FAMILIES[family]), context(counts=COUNTS))
    model({"user_input": tf.constant(USERS), "item_input": tf.constant(ITEMS)}, training=True)
    expected = 0.0
    for path, table in _tables(model).items():
        seen = [0, 3, 5] if "user" in path else [1, 2, 7]
        expected += L2 * float((np.asarray(table.numpy())[seen] ** 2).sum())
    assert float(sum(float(loss) for loss in model.losses)) == pytest.approx(expected, rel=1e-5)


def test_per_row_weights_a_rare_row_more_by_hand():
    """One batch of user 3 (seen twice in training) and user 0 (once): n = 4 ratings, so
    the weights are 4 / 2 and 4 / 1; the penalty is l2 * (2 ||p_3||^2 + 4 ||p_0||^2) / 2."""
    import tensorflow as tf

    model = build(per_row(GMFOptions(dim=3, embedding_l2=L2)), context(counts=COUNTS))
    users, items = np.array([[3], [0]], "int32"), np.array([[1], [1]], "int32")
    model({"user_input": tf.constant(users), "item_input": tf.constant(items)}, training=True)
    p = np.asarray(model.get_layer("user_embedding").trainable_variables[0].numpy())
    q = np.asarray(model.get_layer("item_embedding").trainable_variables[0].numpy())
    user_part = 2 * (p[3] ** 2).sum() + 4 * (p[0] ** 2).sum()
    item_part = 2 * 4 / 2 * (q[1] ** 2).sum()  # item 1 seen twice in training, twice here
    penalties = sorted(float(loss) for loss in model.losses)
    assert penalties == pytest.approx(sorted([L2 * user_part / 2, L2 * item_part / 2]), rel=1e-5)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_per_row_gradient_of_the_tables_stays_sparse(family):
    import tensorflow as tf

    model = build(per_row(FAMILIES[family]), context(counts=COUNTS))
    x = {"user_input": tf.constant(USERS), "item_input": tf.constant(ITEMS)}
    tables = list(_tables(model).values())
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(model(x, training=True) ** 2) + tf.add_n(model.losses)
    for table, grad in zip(tables, tape.gradient(loss, [t.value for t in tables]), strict=True):
        assert isinstance(grad, tf.IndexedSlices), table.path


def test_per_row_model_saves_and_reloads(tmp_path: Path):
    from tests.helpers import assert_save_reload_same

    model = build(per_row(FAMILIES["neumf"]), context(counts=COUNTS))
    assert_save_reload_same(model, {"user_input": USERS, "item_input": ITEMS}, tmp_path)


# --- the one-line warning -------------------------------------------------------------------


def spec(optimizer: str, l2: float, n_users: int = 60_000) -> dict:
    return {
        "name": "w",
        "dataset": {"name": "synthetic", "n_users": n_users, "n_items": 50, "n_ratings": 1000},
        "model": {"family": "neumf", "gmf_dim": 4, "mlp_dim": 4, "mlp_layers": [4]},
        "embedding": {"strategy": "full", "l2": l2},
        "optimizer": {"name": optimizer},
    }


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd", "rmsprop", "adagrad"])
def test_whole_table_l2_with_dense_optimizer_on_big_table_warns(optimizer):
    warning = dense_l2_warning(validate(spec(optimizer, 1e-5)))
    assert warning is not None and "\n" not in warning
    assert "embedding.user.l2" in warning and "60,000" in warning and optimizer in warning
    assert "model.embedding_l2" in warning


@pytest.mark.parametrize(
    "optimizer, l2, n_users",
    [("lazy_adam", 1e-5, 60_000), ("adam", 0.0, 60_000), ("adam", 1e-5, 50_000)],
)
def test_no_warning_when_sparse_or_unregularised_or_small(optimizer, l2, n_users):
    assert dense_l2_warning(validate(spec(optimizer, l2, n_users))) is None


def test_warning_uses_given_sizes_after_data_preparation():
    config = validate(spec("adam", 1e-5, n_users=100))
    assert dense_l2_warning(config) is None
    assert "item (70,000 rows)" in (dense_l2_warning(config, (100, 70_000)) or "")


def test_validate_prints_the_warning_in_one_line(tmp_path: Path):
    import yaml

    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec("adam", 1e-5)))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0
    lines = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(lines) == 1 and "whole-table" in lines[0]
    assert "warning" not in result.stdout
