"""Every model family, Keras or closed-form, behind the one Recommender interface: build,
fit one epoch, predict, save, load whatever the family, the same predictions. Every Keras
family also with every embedding strategy."""

from __future__ import annotations

import numpy as np
import pytest

from recexp.config import TrainingOptions
from recexp.embeddings import EMBEDDINGS
from recexp.models import MODELS
from recexp.models.build import make_recommender
from recexp.models.protocol import Recommender
from recexp.training import TrainData
from recexp.training.optimizers import OPTIMIZERS

from ..helpers import assert_recommender_round_trip
from .test_families import CASES, N_ITEMS, N_USERS, context

STRATEGIES = {
    "full": {"strategy": "full"},
    "quotient_remainder": {"strategy": "quotient_remainder", "num_buckets": 4},
    "mixed_dim": {"strategy": "mixed_dim", "alpha": 0.5, "num_blocks": 2},
    "hashing": {"strategy": "hashing", "num_bins": 6},
}
KERAS_FAMILIES = ["mf", "gmf", "mlp", "neumf", "two_tower"]
CLOSED_FORM = ["global_mean", "biases"]
# numpy/scipy too, and they rank items without predicting ratings (predicts_ratings False)
TOP_N = ["popularity", "item_knn", "ease"]
# their own Recommender and fit loop; glocal_k's one epoch is one pre-training epoch plus
# one fine-tuning epoch (CASES sets both to 1); an ensemble's, one per member and the blend
OWN_LOOP = {"autorec": 1, "svdpp": 1, "glocal_k": 2, "ensemble": 3}


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


def test_every_family_and_strategy_is_covered():
    assert set(EMBEDDINGS.names()) == set(STRATEGIES)
    assert set(MODELS.names()) == {*KERAS_FAMILIES, *CLOSED_FORM, *TOP_N, *OWN_LOOP}


def fit_and_round_trip(model: Recommender, tmp_path, epochs: int = 1) -> None:
    data = tiny_data()
    seen: list[dict] = []

    class Rows:
        def on_epoch(self, row: dict) -> None:
            seen.append(row)

    result = model.fit(data, [Rows()])
    assert len(result.history) == epochs and seen == result.history
    if model.predicts_ratings:
        assert np.isfinite(seen[0]["loss"]) and np.isfinite(seen[0]["val_rmse"])
    else:  # no fake rating error where no rating is predicted
        assert not {"loss", "rmse", "val_rmse"} & set(seen[0])
    predictions = assert_recommender_round_trip(model, data.user, data.item, tmp_path)
    assert predictions.shape == (len(data),) and np.isfinite(predictions).all()
    assert model.summary().params > 0


@pytest.mark.parametrize("family", KERAS_FAMILIES)
@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_keras_family_with_strategy(family: str, strategy: str, tmp_path):
    options = EMBEDDINGS.get(strategy).options(**STRATEGIES[strategy])
    rng = np.random.default_rng(0)
    counts = (rng.integers(0, 20, N_USERS), rng.integers(0, 20, N_ITEMS))
    data = tiny_data()
    ctx = context(embedding=options, counts=counts)
    model = make_recommender(CASES[family], ctx, data.options, data.optimizer, len(data))
    fit_and_round_trip(model, tmp_path)


@pytest.mark.parametrize("family", CLOSED_FORM + TOP_N)
def test_closed_form_family(family: str, tmp_path):
    data = tiny_data()
    options = MODELS.get(family).options(family=family)
    model = make_recommender(options, context(), data.options, data.optimizer, len(data))
    fit_and_round_trip(model, tmp_path)
    users = np.arange(N_USERS, dtype="int32")
    grid = model.predict(
        np.repeat(users, N_ITEMS), np.tile(np.arange(N_ITEMS, dtype="int32"), N_USERS)
    )
    scores = model.score_items(users)
    assert scores.shape == (N_USERS, N_ITEMS) and scores.dtype == np.float32
    np.testing.assert_allclose(scores.ravel(), grid, rtol=1e-6)
    if family == "global_mean":
        assert np.allclose(model.predict(data.user, data.item), data.rating.mean())


@pytest.mark.parametrize("family", list(OWN_LOOP))
def test_own_loop_family(family: str, tmp_path):
    pytest.importorskip("scipy")  # glocal_k's L-BFGS-B: the accuracy extra
    data = tiny_data()
    model = make_recommender(CASES[family], context(), data.options, data.optimizer, len(data))
    params = model.summary().params
    fit_and_round_trip(model, tmp_path, epochs=OWN_LOOP[family])
    # recexp recommend checks the saved model against summary.json, written before fit
    assert Recommender.load(tmp_path / "saved").summary().params == params
