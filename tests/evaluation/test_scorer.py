"""The matmul scorer of the dot-product families ranks as the model predicts: its scores
differ from the tiled ``predict`` by a per-user constant (biases, global mean), for every
embedding strategy; and a saved run's model scores the same after loading."""

from __future__ import annotations

import numpy as np
import pytest

from recexp.config import load_spec
from recexp.data import prepare
from recexp.models.build import build_recommender
from recexp.models.factor_scores import factor_scorer
from recexp.models.protocol import Recommender

STRATEGIES = ("full", "quotient_remainder", "mixed_dim", "hashing")
CASES = [("mf", s) for s in STRATEGIES] + [("gmf", "full"), ("two_tower", "full")]


def built(family: str, strategy: str):
    config = load_spec(f"configs/tiny/{family}.yaml", [f"embedding.strategy={strategy}"])
    data = prepare(config.dataset, config.seed)
    model = build_recommender(config, data)
    # random biases, so that leaving out the per-user ones is tested
    for layer in model.model.layers:
        if layer.name.endswith("_bias") and layer.weights:
            w = layer.weights[0]
            w.assign(np.random.default_rng(1).normal(size=w.shape).astype("float32"))
    return model, data


@pytest.mark.parametrize(("family", "strategy"), CASES)
def test_matmul_scores_equal_predict_up_to_a_per_user_constant(family, strategy, tmp_path):
    model, data = built(family, strategy)
    assert factor_scorer(model.model, data.n_items) is not None
    users = np.arange(min(data.n_users, 17), dtype=np.int32)
    fast = model.scorer()(users)
    tiled = Recommender.score_items(model, users)
    assert fast.shape == tiled.shape == (len(users), data.n_items)
    gap = fast.astype(np.float64) - tiled
    assert np.abs(gap - gap.mean(axis=1, keepdims=True)).max() < 1e-4
    model.save(tmp_path)
    loaded = Recommender.load(tmp_path)
    assert loaded.n_items == data.n_items
    np.testing.assert_allclose(loaded.scorer()(users), fast, rtol=1e-5, atol=1e-5)


def test_families_without_factors_score_by_tiled_predict():
    model, data = built("neumf", "full")
    assert factor_scorer(model.model, data.n_items) is None
    users = np.array([0, 3], np.int32)
    block = model.scorer()(users)
    expected = model.predict(np.repeat(users, data.n_items), np.tile(np.arange(data.n_items), 2))
    np.testing.assert_allclose(block.reshape(-1), expected, rtol=1e-6)
