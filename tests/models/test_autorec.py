"""autorec: masked loss, reconstruction read-out, save/reload, one epoch of training."""

from __future__ import annotations

import numpy as np

from recexp.models.autorec import AutoRecOptions, AutoRecRecommender, _dense_rows
from recexp.models.protocol import Recommender
from tests.helpers import assert_recommender_round_trip
from tests.models._tiny import ROW_KEYS, Rows, tiny_data


def test_masked_loss_ignores_unobserved_entries() -> None:
    from recexp.models.layers_autorec import masked_squared_error

    y = np.array([[5.0, 0.0, 3.0]], np.float32)
    mask = np.array([[1.0, 0.0, 1.0]], np.float32)
    pred = np.array([[4.0, 100.0, 3.5]], np.float32)  # 100 sits on an unobserved entry
    assert float(masked_squared_error(y, pred, mask)) == 1.0 + 0.25


def test_layer_config_round_trip_and_l2_penalty() -> None:
    from recexp.models.layers_autorec import AutoRec

    layer = AutoRec(4, 3, l2=2.0)
    layer.build((None, 4))
    clone = AutoRec.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    w, v = np.asarray(layer.encoder), np.asarray(layer.decoder)
    assert np.isclose(float(layer.l2_penalty()), (w**2).sum() + (v**2).sum(), rtol=1e-5)


def test_in_graph_dense_rows_match_numpy() -> None:
    import tensorflow as tf

    from recexp.data.rating_vectors import RatingVectors

    data = tiny_data()
    v = RatingVectors.build(
        data.user, data.item, data.rating, data.n_users, data.n_items, by="item"
    )
    rows = np.array([4, 0, 7], np.int64)
    csr = (tf.constant(v.indptr), tf.constant(v.indices), tf.constant(v.values))
    ratings, mask = _dense_rows(csr, tf.constant(rows), v.n_cols)
    want_r, want_m = v.dense(rows)
    assert np.array_equal(np.asarray(ratings), want_r) and np.array_equal(np.asarray(mask), want_m)


def test_prediction_reads_the_items_reconstruction() -> None:
    data = tiny_data()
    rec = AutoRecRecommender(AutoRecOptions(hidden=4), data.n_users, data.n_items)
    rec.fit(data, [])
    assert rec.vectors is not None
    dense, _ = rec.vectors.dense(np.array([3]))
    recon = np.asarray(rec.model(dense))[0]
    got = rec.predict(np.array([0, 5, 11]), np.array([3, 3, 3]))
    assert np.allclose(got, recon[[0, 5, 11]], atol=1e-6)


def test_fit_reduces_loss_and_reports_rows() -> None:
    rows = Rows()
    data = tiny_data(max_epochs=4)
    rec = AutoRecRecommender(AutoRecOptions(hidden=8, l2=0.1, batch_rows=4), 12, 9, (1.0, 5.0))
    result = rec.fit(data, [rows])
    assert [r["epoch"] for r in rows.rows] == [1, 2, 3, 4]
    assert set(rows.rows[0]) == set(ROW_KEYS)
    assert rows.rows[-1]["loss"] < rows.rows[0]["loss"]
    assert result.best_epoch is not None and result.ratings_per_second > 0


def test_user_based_save_reload_gives_identical_predictions(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = tiny_data()
    rec = AutoRecRecommender(AutoRecOptions(kind="user", hidden=5), data.n_users, data.n_items)
    rec.fit(data, [])
    user, item = np.arange(12) % 12, np.arange(12) % 9
    assert_recommender_round_trip(rec, user, item, tmp_path)
    back = Recommender.load(tmp_path / "saved")
    assert isinstance(back, AutoRecRecommender) and back.options.kind == "user"
