"""glocal_k: the local kernel, the global kernel, save/reload, pre-training + fine-tuning."""

from __future__ import annotations

import numpy as np
import pytest

from recexp.models.glocal_k import GLocalKOptions, GLocalKRecommender
from recexp.models.layers_glocal_k import GlobalKernel, GLocalK, LocalKernelDense, local_kernel
from tests.helpers import assert_recommender_round_trip
from tests.models._tiny import ROW_KEYS, Rows, tiny_data

SMALL = {"n_hid": 6, "n_dim": 2, "n_layers": 1, "pre_epochs": 2, "fine_epochs": 2}


def test_local_kernel_values_by_hand() -> None:
    u = np.array([[[0.0, 0.0]], [[0.5, 0.0]], [[2.0, 0.0]]], np.float32)  # (3, 1, 2)
    v = np.array([[[0.0, 0.0], [0.0, 0.5]]], np.float32)  # (1, 2, 2)
    k = np.asarray(local_kernel(u, v))
    assert k.shape == (3, 2)
    assert k[0, 0] == 1.0  # zero distance
    assert np.allclose(k[1], [0.75, 0.5])  # 1 - 0.25, 1 - (0.25 + 0.25)
    assert np.allclose(k[2], [0.0, 0.0])  # far apart: clipped at 0
    rng = np.random.default_rng(0)
    k = np.asarray(local_kernel(rng.normal(size=(20, 1, 3)), rng.normal(size=(1, 7, 3))))
    assert (k >= 0).all() and (k <= 1).all()


def test_local_kernel_dense_penalty_and_config() -> None:
    layer = LocalKernelDense(3, n_dim=2, lambda_s=0.5, lambda_2=2.0)
    layer.build((None, 4))
    k = np.asarray(layer.local_weights())
    w = np.asarray(layer.kernel)
    assert np.isclose(float(layer.penalty()), 0.25 * (k**2).sum() + 1.0 * (w**2).sum(), rtol=1e-5)
    x = np.ones((2, 4), np.float32)
    want = 1 / (1 + np.exp(-(x @ (w * k) + np.asarray(layer.bias))))
    assert np.allclose(np.asarray(layer(x)), want, atol=1e-6)
    assert LocalKernelDense.from_config(layer.get_config()).get_config() == layer.get_config()


def test_global_kernel_shape_and_identity_convolution() -> None:
    gk = GlobalKernel(4, gk_size=3)
    gk.build()
    kernel = gk(np.ones((4, 5), np.float32))
    assert tuple(kernel.shape) == (3, 3, 1, 1)
    identity = np.zeros((3, 3, 1, 1), np.float32)
    identity[1, 1] = 1.0
    m = np.arange(20, dtype=np.float32).reshape(4, 5) - 5  # negatives are cut by the ReLU
    assert np.array_equal(np.asarray(GlobalKernel.convolve(m, identity)), np.maximum(m, 0))
    model = GLocalK(5, 4, n_hid=3, n_dim=2, n_layers=1)
    assert GLocalK.from_config(model.get_config()).get_config() == model.get_config()


def test_pretrain_then_finetune_reduces_loss_and_reloads(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("scipy")  # L-BFGS-B: the accuracy extra
    rows = Rows()
    rec = GLocalKRecommender(GLocalKOptions(**SMALL, lambda_2=0.1), 12, 9)
    result = rec.fit(tiny_data(), [rows])
    assert len(rows.rows) == 4 and rec.stage == "fine"
    assert rows.rows[-1]["loss"] < rows.rows[0]["loss"]
    assert result.best_epoch in (3, 4)  # selected among the fine-tuning epochs
    assert set(rows.rows[0]) == set(ROW_KEYS)
    user, item = np.arange(12), np.arange(12) % 9
    assert_recommender_round_trip(rec, user, item, tmp_path)


def test_adam_approximation_runs() -> None:
    rows = Rows()
    rec = GLocalKRecommender(GLocalKOptions(**SMALL, optimizer="adam"), 12, 9)
    rec.fit(tiny_data(), [rows])
    assert rows.rows[-1]["loss"] < rows.rows[0]["loss"]
