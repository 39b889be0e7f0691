"""autorec: masked loss, reconstruction read-out, save/reload, one epoch of training."""

from __future__ import annotations

import numpy as np

from recexp.models.autorec import AutoRecOptions, AutoRecRecommender, _dense_rows
from tests.models._tiny import Rows, tiny_data


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
    rec = AutoRecRecommender(AutoRecOptions(hidden=4))
    rec.fit(data, [])
    assert rec.vectors is not None
    dense, _ = rec.vectors.dense(np.array([3]))
    recon = np.asarray(rec.model(dense))[0]
    got = rec.predict(np.array([0, 5, 11]), np.array([3, 3, 3]))
    assert np.allclose(got, recon[[0, 5, 11]], atol=1e-6)


def test_fit_reduces_loss_and_reports_rows() -> None:
    rows = Rows()
    result = AutoRecRecommender(AutoRecOptions(hidden=8, l2=0.1, batch_rows=4)).fit(
        tiny_data(max_epochs=4), [rows]
    )
    assert [r["epoch"] for r in rows.rows] == [1, 2, 3, 4]
    assert set(rows.rows[0]) == {
        "epoch",
        "loss",
        "rmse",
        "val_rmse",
        "val_mae",
        "learning_rate",
        "seconds",
    }
    assert rows.rows[-1]["loss"] < rows.rows[0]["loss"]
    assert result.best_epoch is not None and result.ratings_per_second > 0


def test_user_based_save_reload_gives_identical_predictions(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = tiny_data()
    rec = AutoRecRecommender(AutoRecOptions(kind="user", hidden=5))
    rec.fit(data, [])
    rec.save(tmp_path / "run")
    back = AutoRecRecommender.load(tmp_path / "run")
    user, item = np.arange(12) % 12, np.arange(12) % 9
    assert np.array_equal(rec.predict(user, item), back.predict(user, item))
    assert back.options.kind == "user"
