"""Every model family with every embedding strategy: fit, save, reload, same predictions."""

from __future__ import annotations

import numpy as np
import pytest

from recexp.embeddings import EMBEDDINGS
from recexp.models import MODELS

from .test_models import CASES, N_ITEMS, N_USERS, context

STRATEGIES = {
    "quotient_remainder": {"strategy": "quotient_remainder", "num_buckets": 4},
    "mixed_dim": {"strategy": "mixed_dim", "alpha": 0.5, "num_blocks": 2},
    "hashing": {"strategy": "hashing", "num_bins": 6},
}
FAMILIES = ["mf", "gmf", "mlp", "neumf", "two_tower"]


def test_every_strategy_is_covered():
    assert set(EMBEDDINGS.names()) == {"full", *STRATEGIES}


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_family_with_strategy(family: str, strategy: str, tmp_path):
    import keras

    options = EMBEDDINGS.get(strategy).options(**STRATEGIES[strategy])
    rng = np.random.default_rng(0)
    counts = (rng.integers(0, 20, N_USERS), rng.integers(0, 20, N_ITEMS))
    ctx = context(embedding=options, counts=counts)
    model = MODELS.get(family).fn(CASES[family], ctx)
    x = {
        "user_input": rng.integers(0, N_USERS, size=(64, 1)).astype("int32"),
        "item_input": rng.integers(0, N_ITEMS, size=(64, 1)).astype("int32"),
    }
    y = rng.integers(1, 6, size=(64, 1)).astype("float32")
    model.compile(optimizer="adam", loss="mse")
    assert np.isfinite(model.fit(x, y, epochs=1, batch_size=64, verbose=0).history["loss"][0])
    before = model.predict(x, batch_size=64, verbose=0)
    model.save(tmp_path / "model.keras")
    after = keras.saving.load_model(tmp_path / "model.keras").predict(x, batch_size=64, verbose=0)
    np.testing.assert_allclose(before, after, rtol=1e-6)
