"""Every model family, Keras or closed-form, behind the one Recommender interface: build,
fit one epoch, predict, save, load whatever the family, the same predictions. Every family
with registry embedding tables also with every embedding strategy.

Parametrized over the registries themselves: a new family or strategy (a module that
registers it, or an installed plugin) is tested here with no list to edit. Small sizes
for the shipped ones come from ``CASES`` / ``STRATEGIES``; anything else is built with
its options' defaults."""

from __future__ import annotations

import numpy as np
import pytest

from recexp.config import TrainingOptions
from recexp.embeddings import EMBEDDINGS
from recexp.models.build import make_recommender
from recexp.models.protocol import Recommender
from recexp.training import TrainData
from recexp.training.optimizers import OPTIMIZERS

from ..helpers import assert_recommender_round_trip
from .test_families import (
    FAMILIES,
    N_ITEMS,
    N_USERS,
    context,
    has_embedding_tables,
    tiny_options,
)

STRATEGIES = {
    "full": {"strategy": "full"},
    "quotient_remainder": {"strategy": "quotient_remainder", "num_buckets": 4},
    "mixed_dim": {"strategy": "mixed_dim", "alpha": 0.5, "num_blocks": 2},
    "hashing": {"strategy": "hashing", "num_bins": 6},
}


def tiny_strategy(name: str):  # type: ignore[no-untyped-def]
    return EMBEDDINGS.get(name).options(**STRATEGIES.get(name, {"strategy": name}))


def tiny_data(rows: int = 64) -> TrainData:
    rng = np.random.default_rng(0)
    user = rng.integers(0, N_USERS, rows).astype("int32")
    item = rng.integers(0, N_ITEMS, rows).astype("int32")
    rating = rng.integers(1, 6, rows).astype("float32")
    return TrainData(
        user, item, rating, user[:8], item[:8], rating[:8], N_USERS, N_ITEMS,
        options=TrainingOptions(batch_size=32, max_epochs=1),
        optimizer=OPTIMIZERS.get("adam").options(name="adam"),
        seed=1,
    )  # fmt: skip


def fit_and_round_trip(model: Recommender, tmp_path) -> None:
    data = tiny_data()
    seen: list[dict] = []

    class Rows:
        def on_epoch(self, row: dict) -> None:
            seen.append(row)

    result = model.fit(data, [Rows()])
    # one epoch; glocal_k's is a pre-training and a fine-tuning one, an ensemble's one per
    # member and the blend
    assert 1 <= len(result.history) <= 4 and seen == result.history
    if model.predicts_ratings:
        assert np.isfinite(seen[0]["loss"]) and np.isfinite(seen[0]["val_rmse"])
    else:  # no fake rating error where no rating is predicted (top-N baselines)
        assert not {"loss", "rmse", "val_rmse"} & set(seen[0])
    predictions = assert_recommender_round_trip(model, data.user, data.item, tmp_path)
    assert predictions.shape == (len(data),) and np.isfinite(predictions).all()
    assert model.summary().params > 0


@pytest.mark.parametrize("family", FAMILIES)
def test_family_keeps_the_contract(family: str, tmp_path):
    if family == "glocal_k":
        pytest.importorskip("scipy")  # its L-BFGS-B: the accuracy extra
    data = tiny_data()
    model = make_recommender(tiny_options(family), context(), data.options, data.optimizer, 64)
    params = model.summary().params
    fit_and_round_trip(model, tmp_path)
    # recexp recommend checks the saved model against summary.json, written before fit
    assert Recommender.load(tmp_path / "saved").summary().params == params
    # score_items (what ranking and recommend read) is predict over every item
    users = np.arange(N_USERS, dtype="int32")
    grid = model.predict(
        np.repeat(users, N_ITEMS), np.tile(np.arange(N_ITEMS, dtype="int32"), N_USERS)
    )
    scores = model.score_items(users)
    assert scores.shape == (N_USERS, N_ITEMS) and scores.dtype == np.float32
    np.testing.assert_allclose(scores.ravel(), grid, rtol=1e-5, atol=1e-5)
    if family == "global_mean":
        assert np.allclose(model.predict(data.user, data.item), data.rating.mean())


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("strategy", [s for s in EMBEDDINGS.names() if s != "full"])
def test_family_with_strategy(family: str, strategy: str, tmp_path):
    if not has_embedding_tables(tiny_options(family)):
        pytest.skip(f"{family} has no registry embedding tables")
    rng = np.random.default_rng(0)
    counts = (rng.integers(0, 20, N_USERS), rng.integers(0, 20, N_ITEMS))
    data = tiny_data()
    ctx = context(embedding=tiny_strategy(strategy), counts=counts)
    model = make_recommender(tiny_options(family), ctx, data.options, data.optimizer, len(data))
    fit_and_round_trip(model, tmp_path)
