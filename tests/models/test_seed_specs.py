"""Every seed document is a spec; its model has the seed's parameter count.

The seeds' vocabularies are reproduced with synthetic data of the same shape (every user
and item rated in train), so no download is needed: the spec's dataset is swapped for
``synthetic`` with ``--set``-style overrides, exactly as a user would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from recexp.config import load_spec
from recexp.data import prepare
from recexp.models.build import build_recommender

SEEDS = Path(__file__).resolve().parents[2] / "configs" / "seeds"


def shaped_like(n_users: int, n_items: int, n_ratings: int, scale: str = "") -> str:
    return (
        f"dataset={{name: synthetic, n_users: {n_users}, n_items: {n_items}, "
        f"n_ratings: {n_ratings}, user_exponent: 0, item_exponent: 0, "
        f"split: {{strategy: random, val: 0.0, test: 0.001}}{scale}}}"
    )


@pytest.mark.parametrize(
    ("spec", "shape", "total", "trainable"),
    [
        (
            "seed000_neumf_jester.yaml",
            (73_421, 100, 1_000_000, ", rating_min: -10, rating_max: 10"),
            3_535_809,
            3_535_809,
        ),
        ("seed001_mlp.yaml", (2_391, 1_649, 100_000, ""), 74_937, 74_937),
        ("seed002_baseline_ml1m.yaml", (6_040, 3_706, 200_000, ""), 623_744, 623_744),
        ("seed002_memory_efficient_ml1m.yaml", (6_040, 3_706, 200_000, ""), 117_968, 117_968),
        ("seed004_recommender_net.yaml", (33_901, 126, 500_000, ""), 578_459, 578_459),
    ],
)
def test_seed_parameter_counts(spec: str, shape: tuple, total: int, trainable: int):
    config = load_spec(SEEDS / spec, [shaped_like(*shape)])
    data = prepare(config.dataset, config.seed)
    assert (data.n_users, data.n_items) == shape[:2]
    info = build_recommender(config, data).summary().as_dict()
    assert info["params"] == total
    assert info["trainable_params"] == trainable


def test_seed002_compression_is_reported():
    config = load_spec(
        SEEDS / "seed002_memory_efficient_ml1m.yaml", [shaped_like(6_040, 3_706, 200_000)]
    )
    info = build_recommender(config, prepare(config.dataset, config.seed)).summary().as_dict()
    strategies = {t["name"]: t["strategy"] for t in info["embeddings"]}
    assert sorted(strategies.values()) == ["mixed_dim", "quotient_remainder"]
    assert 623_744 / info["embedding_params"] == pytest.approx(5.29, abs=0.01)


@pytest.mark.parametrize("spec", sorted(p.name for p in SEEDS.glob("*.yaml")))
def test_every_seed_spec_validates(spec: str):
    assert load_spec(SEEDS / spec).name.startswith("seed")
