"""The embedding memory report: seed 002's parameter counts, hash collisions."""

from __future__ import annotations

import numpy as np

from recexp.embeddings.full import FullOptions
from recexp.embeddings.hashing import HashingOptions
from recexp.embeddings.layers.hashing import collisions
from recexp.embeddings.mixed_dim import MixedDimOptions
from recexp.embeddings.quotient_remainder import QuotientRemainderOptions

from .cases import build, context, request


def seed_002_model(user, item):
    from recexp.models import MODELS
    from recexp.models.mf import MFOptions

    counts = np.random.default_rng(2).integers(1, 3000, size=3706)
    counts[-50:] = 0  # 50 movies unrated in training: they join the last block
    options = MFOptions(dim=64, use_bias=False, global_mean=False, output="sigmoid_scaled")
    return MODELS.get("mf").fn(options, context(user, item, 6040, 3706, item_counts=counts))


def test_seed_002_parameter_counts_and_report():
    from recexp.embeddings.report import embedding_report

    baseline = seed_002_model(FullOptions(), FullOptions())
    assert baseline.count_params() == 623_744

    users = QuotientRemainderOptions(compression=50)  # 6040 // 50 = 120 buckets
    movies = MixedDimOptions(blocks=[400, 1300], dims=[64, 32, 16])
    efficient = seed_002_model(users, movies)
    assert efficient.count_params() == 117_968

    report = {entry["name"]: entry for entry in embedding_report(efficient)}
    assert report["user_embedding"] == {
        "name": "user_embedding",
        "strategy": "quotient_remainder",
        "vocabulary": 6040,
        "rows": 240,
        "dim": 64,
        "parameters": 15_360,
        "bytes": 61_440,
        "compression": round(6040 * 64 / 15_360, 4),
    }
    movie = report["item_embedding"]
    assert movie["block_sizes"] == [400, 1300, 2006] and movie["block_dims"] == [64, 32, 16]
    assert movie["block_rows"] == [401, 1301, 2007]  # keras-io's spare row per block
    # (401 x 64) + (1301 x 32 + 32 x 64 + 64) + (2007 x 16 + 16 x 64 + 64)
    assert movie["parameters"] == 102_608 and movie["bytes"] == 4 * 102_608
    assert movie["rows"] == 3709

    compact = seed_002_model(
        users.model_copy(update={"sizing": "compact"}),
        movies.model_copy(update={"sizing": "compact"}),
    )
    assert compact.count_params() == 51 * 64 + 120 * 64 + 102_368

    full = {entry["name"]: entry for entry in embedding_report(baseline)}
    assert full["user_embedding"]["compression"] == 1.0
    assert full["item_embedding"]["bytes"] == 3706 * 64 * 4


def test_report_counts_hash_collisions():
    import keras

    from recexp.embeddings.report import embedding_report

    ids = keras.Input(shape=(1,), dtype="int32")
    layer = build(HashingOptions(num_bins=4), request(10, dim=2))
    (entry,) = embedding_report(keras.Model(ids, layer(ids)))
    assert entry["strategy"] == "hashing" and entry["rows"] == 4 and entry["parameters"] == 8
    assert entry["compression"] == 2.5
    assert (entry["colliding_ids"], entry["bins_used"]) == tuple(collisions(10, 4).values())


def test_report_reads_a_plain_keras_embedding_as_full():
    import keras

    from recexp.embeddings.report import embedding_report

    ids = keras.Input(shape=(1,), dtype="int32")
    plain = keras.layers.Embedding(10, 4, name="plain")
    assert embedding_report(keras.Model(ids, plain(ids))) == [
        {
            "name": "plain",
            "strategy": "full",
            "vocabulary": 10,
            "rows": 10,
            "dim": 4,
            "parameters": 40,
            "bytes": 160,
            "compression": 1.0,
        }
    ]
