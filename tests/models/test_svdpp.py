"""svdpp: the implicit sum by hand, per-rating penalty, sparse gradients, save/reload, fit."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from recexp.data.rating_vectors import RatingVectors
from recexp.models.layers_svdpp import ImplicitFeedback, SVDpp
from recexp.models.protocol import Recommender
from recexp.models.svdpp import SVDppOptions, SVDppRecommender
from tests.models._tiny import Rows, tiny_data

# N(u0) = {0, 2}, N(u1) = {1}, N(u2) = {} (no ratings)
USER, ITEM = np.array([0, 0, 1]), np.array([0, 2, 1])


def _layer() -> tuple[ImplicitFeedback, np.ndarray]:
    v = RatingVectors.build(USER, ITEM, np.ones(3, np.float32), 3, 3, by="user")
    layer = ImplicitFeedback(3, 3, 2, v.nnz)
    layer.build()
    y = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]], np.float32)
    layer.y.assign(y)
    layer.set_neighbourhood(v.indptr, v.indices)
    return layer, y


def test_implicit_sum_equals_hand_computation() -> None:
    layer, y = _layer()
    implicit, sq = layer(np.array([0, 1, 0, 2]))
    u0 = (y[0] + y[2]) / np.sqrt(2)
    want = np.stack([u0, y[1], u0, np.zeros(2)])
    assert np.allclose(np.asarray(implicit), want, atol=1e-6)
    assert np.allclose(np.asarray(sq), [1 + 4 + 0.25 + 0.25, 9 + 1, 5.5, 0])


def test_gradient_of_y_is_sparse_and_only_on_n_u() -> None:
    layer, _ = _layer()
    with tf.GradientTape() as tape:
        implicit, _ = layer(np.array([1]))
        loss = tf.reduce_sum(implicit)
    grad = tape.gradient(loss, layer.y.value)
    assert isinstance(grad, tf.IndexedSlices)
    assert np.asarray(grad.indices).tolist() == [1]


def test_prediction_is_the_svdpp_formula() -> None:
    model = SVDpp(3, 3, 2, 3, global_mean=3.5, l2=0.1, implicit_l2=0.2, bias_l2=0.3)
    model.build()
    nu = RatingVectors.build(USER, ITEM, np.ones(3), 3, 3, by="user")
    model.implicit.set_neighbourhood(nu.indptr, nu.indices)
    p = np.asarray(model.user_embedding.embeddings)
    q = np.asarray(model.item_embedding.embeddings)
    y = np.asarray(model.implicit.y)
    model.user_bias.embeddings.assign([[0.1], [0.2], [0.3]])
    model.item_bias.embeddings.assign([[-0.1], [0.0], [0.4]])
    score, penalty = model.terms({"user_input": np.array([0]), "item_input": np.array([1])})
    implicit = (y[0] + y[2]) / np.sqrt(2)
    want = 3.5 + 0.1 + 0.0 + q[1] @ (p[0] + implicit)
    assert np.isclose(float(score[0]), want, atol=1e-5)
    want_pen = 0.1 * (p[0] @ p[0] + q[1] @ q[1]) + 0.2 * (y[0] @ y[0] + y[2] @ y[2]) + 0.3 * 0.01
    assert np.isclose(float(penalty[0]), want_pen, atol=1e-5)


def test_fit_reduces_loss_and_save_reload_is_identical(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = Rows()
    rec = SVDppRecommender(SVDppOptions(dim=4), 12, 9)
    result = rec.fit(tiny_data(max_epochs=3), [rows])
    assert rows.rows[-1]["loss"] < rows.rows[0]["loss"] and result.best_epoch is not None
    rec.save(tmp_path)
    back = Recommender.load(tmp_path)
    assert isinstance(back, SVDppRecommender)
    user, item = np.arange(12), np.arange(12) % 9
    # same weights and the very same predictions (predict is one graph for any batch size)
    for a, b in zip(rec.model.get_weights(), back.model.get_weights(), strict=True):
        assert np.array_equal(a, b)
    np.testing.assert_array_equal(rec.predict(user, item), back.predict(user, item))


def test_layer_configs_round_trip() -> None:
    layer = ImplicitFeedback(3, 4, 2, 5, init_std=0.2)
    assert ImplicitFeedback.from_config(layer.get_config()).get_config() == layer.get_config()
    model = SVDpp(3, 4, 2, 5, global_mean=3.0, l2=0.1)
    assert SVDpp.from_config(model.get_config()).get_config() == model.get_config()
