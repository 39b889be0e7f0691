"""Model families: the contract every family keeps, seed 001's size, side features, retrieval."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from recexp.embeddings.full import FullOptions
from recexp.models import MODELS, BuildContext
from recexp.models.autorec import AutoRecOptions
from recexp.models.ensemble import EnsembleOptions
from recexp.models.features import encode_features
from recexp.models.glocal_k import GLocalKOptions
from recexp.models.gmf import GMFOptions
from recexp.models.mf import MFOptions
from recexp.models.mlp import MLPOptions
from recexp.models.neumf import NeuMFOptions
from recexp.models.retrieval import retrieval_metrics
from recexp.models.svdpp import SVDppOptions
from recexp.models.two_tower import TwoTowerOptions

N_USERS, N_ITEMS = 12, 8

# Users 0..11 are raw ids 100..1100; items 0..7 are raw ids 1..8 (only items 1..4 have rows).
USER_FRAME = pd.DataFrame(
    {
        "age": pd.array([20, 30, 40, 50] * 3, dtype="Int64"),
        "gender": ["F", "M"] * 6,
        "occupation": ["doctor", "writer", "artist"] * 4,
        "zip": ["00000"] * 12,
    },
    index=pd.Index(range(100, 1300, 100), name="user"),
)
ITEM_FRAME = pd.DataFrame(
    {
        "title": ["Toy Story (1995)", "Heat (1995)", "Toy Story 2 (1999)", "Jumanji (1995)"],
        "year": [1995, 1995, 1999, 1995],
        "genres": [["Animation", "Comedy"], ["Action"], ["Animation"], []],
    },
    index=pd.Index([1, 2, 3, 4], name="item"),
)
TINY_FEATURES = encode_features(USER_FRAME, ITEM_FRAME, USER_FRAME.index, np.arange(1, 9))

CASES = {
    "mf": MFOptions(dim=4),
    "neumf": NeuMFOptions(gmf_dim=4, mlp_dim=4, mlp_layers=[8], dropout=0.2),
    "gmf": GMFOptions(dim=4),
    "mlp": MLPOptions(dim=4, layers=[{"units": 8, "dropout": 0.5}, 4], l2=0.01),
    "two_tower": TwoTowerOptions(dim=4, layer_sizes=[8, 4]),
    "two_tower+features": TwoTowerOptions(dim=4, layer_sizes=[8, 4], output_bias="mean"),
    "autorec": AutoRecOptions(hidden=4, batch_rows=4),
    "svdpp": SVDppOptions(dim=4),
    "glocal_k": GLocalKOptions(n_hid=4, n_dim=2, n_layers=1, pre_epochs=1, fine_epochs=1),
    "ensemble": EnsembleOptions(
        members=[{"model": {"family": "mf", "dim": 4}}, {"model": {"family": "svdpp", "dim": 4}}]
    ),
}

# numpy baselines (recexp/models/closed_form.py): fitted in closed form, no model.keras
NOT_KERAS = {"global_mean", "biases"}
# top-N baselines (numpy/scipy, scores not ratings): tests/models/test_topn_baselines.py
NOT_KERAS |= {"popularity", "item_knn", "ease"}
# their own Recommender and fit loop (no (user_input, item_input) Keras model): tested in
# tests/models/test_contract.py and their own test files
OWN_LOOP = {"autorec", "svdpp", "glocal_k", "ensemble"}
KERAS_CASES = [case for case in CASES if case not in OWN_LOOP]


def context(
    n_users=N_USERS, n_items=N_ITEMS, features=None, global_mean=3.5, embedding=None, counts=None
) -> BuildContext:
    return BuildContext(
        n_users=n_users,
        n_items=n_items,
        global_mean=global_mean,
        rating_min=1.0,
        rating_max=5.0,
        user_embedding=embedding or FullOptions(),
        item_embedding=embedding or FullOptions(),
        user_counts=None if counts is None else counts[0],
        item_counts=None if counts is None else counts[1],
        seed=1,
        features=features or {},
    )


def build(options, ctx: BuildContext):
    """The family's Keras model (a family's own Recommender holds it as ``.model``)."""
    built = MODELS.get(options.family).fn(options, ctx)
    return getattr(built, "model", built)


def test_registry_lists_every_family_without_importing_keras():
    code = (
        "import sys, recexp.models as m; "
        "assert {'gmf', 'mf', 'mlp', 'neumf', 'two_tower'} <= set(m.MODELS.names()); "
        "assert 'keras' not in sys.modules and 'tensorflow' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_registered_family_is_covered():
    covered = {options.family for options in CASES.values()} | NOT_KERAS
    assert set(MODELS.names()) <= covered


@pytest.mark.parametrize("case", KERAS_CASES)
def test_family_fits_saves_and_reloads(case, tmp_path):
    import keras

    options = CASES[case]
    features = TINY_FEATURES if case.endswith("+features") else None
    model = build(options, context(features=features))
    assert sorted(t.name for t in model.inputs) == ["item_input", "user_input"]
    rng = np.random.default_rng(0)
    x = {
        "user_input": rng.integers(0, N_USERS, size=(100, 1)).astype("int32"),
        "item_input": rng.integers(0, N_ITEMS, size=(100, 1)).astype("int32"),
    }
    y = rng.integers(1, 6, size=(100, 1)).astype("float32")
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, y, epochs=1, batch_size=50, verbose=0)  # 2 equal batches: 1 trace
    assert np.isfinite(history.history["loss"][0])
    before = model.predict(x, batch_size=100, verbose=0)
    assert before.shape == (100, 1) and np.isfinite(before).all()
    model.save(tmp_path / "model.keras")
    after = keras.saving.load_model(tmp_path / "model.keras").predict(x, batch_size=100, verbose=0)
    np.testing.assert_array_equal(before, after)


# --- gmf and mlp ------------------------------------------------------------------------------


def test_gmf_by_hand():
    model = build(GMFOptions(dim=4), context(global_mean=3.25))
    # 12 x 4 + 8 x 4 embedding rows, Dense(4 -> 1) = 5
    assert model.count_params() == 48 + 32 + 5
    assert float(model.get_layer("prediction").bias.numpy()[0]) == 3.25
    model.get_layer("user_embedding").set_weights([np.full((N_USERS, 4), 2.0, "float32")])
    model.get_layer("item_embedding").set_weights([np.arange(32, dtype="float32").reshape(8, 4)])
    model.get_layer("prediction").set_weights([np.ones((4, 1), "float32"), np.array([1.0])])
    x = {"user_input": np.array([[0]], "int32"), "item_input": np.array([[1]], "int32")}
    # item 1 = [4, 5, 6, 7]; 2 * (4 + 5 + 6 + 7) + 1
    assert model.predict(x, verbose=0)[0, 0] == pytest.approx(45.0)


SEED_001 = {
    "dim": 15,
    "l2": 0.01,
    "layers": [
        {"units": 128, "dropout": 0.6},
        {"units": 64, "dropout": 0.5},
        {"units": 32, "dropout": 0.4},
    ],
    "output_activation": "relu",
    "output_bias": "mean",
}


def test_seed_001_mlp_has_74937_parameters():
    import keras

    model = build(MLPOptions(**SEED_001), context(2391, 1649, global_mean=3.6))
    assert model.count_params() == 74_937
    counts = {layer.name: layer.count_params() for layer in model.layers}
    assert counts["user_embedding"] == 2391 * 15 == 35_865
    assert counts["item_embedding"] == 1649 * 15 == 24_735
    assert [counts[f"mlp_layer_{i}"] for i in range(3)] == [3_968, 8_256, 2_080]
    assert counts["prediction"] == 33
    assert [model.get_layer(f"mlp_dropout_{i}").rate for i in range(3)] == [0.6, 0.5, 0.4]
    for name in ["mlp_layer_0", "mlp_layer_1", "mlp_layer_2", "prediction"]:
        regularizer = model.get_layer(name).kernel_regularizer
        assert isinstance(regularizer, keras.regularizers.L2)
        assert regularizer.l2 == pytest.approx(0.01)  # Keras' default for 'l2'
    out = model.get_layer("prediction")
    assert out.activation is keras.activations.relu
    assert out.bias.numpy()[0] == pytest.approx(3.6)


def test_mlp_layer_shorthand_and_defaults():
    import keras

    options = MLPOptions(layers=[128, {"units": 64, "l2": 0.5}], dropout=0.1, activation="tanh")
    assert [layer.units for layer in options.layers] == [128, 64]
    model = build(options, context())
    assert model.get_layer("mlp_layer_0").activation is keras.activations.tanh
    assert model.get_layer("mlp_layer_0").kernel_regularizer is None
    assert model.get_layer("mlp_layer_1").kernel_regularizer.l2 == pytest.approx(0.5)
    assert model.get_layer("mlp_dropout_1").rate == 0.1
    assert model.get_layer("prediction").bias.numpy()[0] == pytest.approx(3.5)


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"layers": []}, ("layers",)),
        ({"layers": [{"units": 8, "dropout": 1.0}]}, ("layers", 0, "dropout")),
        ({"layers": [{"units": 8, "unit": 4}]}, ("layers", 0, "unit")),
        ({"output_bias": "median"}, ("output_bias",)),
        ({"output_activation": "sigmoid"}, ("output_activation",)),
    ],
)
def test_mlp_bad_options_name_the_key(change, loc):
    with pytest.raises(ValidationError) as excinfo:
        MLPOptions(**{**SEED_001, **change})
    assert any(error["loc"][: len(loc)] == loc for error in excinfo.value.errors())


# --- side features ----------------------------------------------------------------------------


def test_encode_features_by_hand():
    users = pd.DataFrame(
        {
            "age": pd.array([25, 35, None, 25], dtype="Int64"),
            "gender": ["M", "F", "F", None],
            "occupation": ["writer", "doctor", "writer", ""],
            "zip": ["1", "2", "3", "4"],
        },
        index=[7, 3, 9, 5],
    )
    items = pd.DataFrame(
        {
            "title": ["Toy Story (1995)", "Heat (1995)", "Se7en: Toy Box! (1995)", None],
            "year": [1995, 1995, 1995, np.nan],
            "genres": [["Comedy", "Animation"], ["Action"], [], ["Action", "Comedy"]],
        },
        index=[10, 20, 30, 40],
    )
    # codes: users 0..4 = raw 3, 5, 7, 9, 11 (11 has no row); items 0..3 = raw 40, 30, 20, 10
    f = encode_features(users, items, [3, 5, 7, 9, 11], [40, 30, 20, 10])
    assert list(f["user"]) == ["age", "gender", "occupation", "gender_x_age"]
    # ages 35, 25, 25 -> 10 quantile boundaries collapse to [25, 35]: <25 -> 1, 25 -> 2, 35 -> 3
    np.testing.assert_array_equal(f["user"]["age"], [3, 2, 2, 0, 0])
    np.testing.assert_array_equal(f["user"]["gender"], [1, 0, 2, 1, 0])  # F=1, M=2
    np.testing.assert_array_equal(f["user"]["occupation"], [1, 0, 2, 2, 0])  # doctor, writer
    # 3 age buckets: 1 + (gender - 1) * 3 + (age - 1); 0 if either is unknown
    np.testing.assert_array_equal(f["user"]["gender_x_age"], [3, 0, 5, 0, 0])
    # tokens: 1995 x3, toy x2, then a..z: box, heat, se7en, story
    title = f["item"]["title"]
    assert title.shape == (4, 16) and title.dtype == np.int32
    np.testing.assert_array_equal(title[:, :4], [[0, 0, 0, 0], [5, 2, 3, 1], [4, 1, 0, 0],
                                                 [2, 6, 1, 0]])  # fmt: skip
    assert not title[:, 4:].any()
    # genres: Action=1, Animation=2, Comedy=3; width = most genres of any item
    np.testing.assert_array_equal(f["item"]["genres"], [[1, 3], [0, 0], [1, 0], [3, 2]])

    explicit = encode_features(users, None, [3, 5, 7, 9, 11], [], age_boundaries=[18, 30])
    assert explicit["item"] == {}
    np.testing.assert_array_equal(explicit["user"]["age"], [3, 2, 2, 0, 0])
    short = encode_features(None, items, [], [40, 30, 20, 10], title_length=2, max_title_tokens=2)
    np.testing.assert_array_equal(short["item"]["title"], [[0, 0], [2, 1], [1, 0], [2, 1]])
    assert encode_features(None, None, [1], [1]) == {"user": {}, "item": {}}
    # a column absent or never known leaves the feature out
    only_gender = encode_features(users[["gender"]], items[["genres"]].iloc[2:3], [3], [30])
    assert list(only_gender["user"]) == ["gender"] and only_gender["item"] == {}


def test_two_tower_features_stay_inside_the_model():
    model = build(TwoTowerOptions(dim=4, layer_sizes=[4]), context(features=TINY_FEATURES))
    tower = model.get_layer("query_tower")
    table = tower.get_layer("user_occupation_lookup").table.numpy()
    np.testing.assert_array_equal(table[:, 0], TINY_FEATURES["user"]["occupation"])
    assert not tower.get_layer("user_occupation_lookup").trainable_weights
    names = {layer.name for layer in model.get_layer("candidate_tower").layers}
    assert {"item_title_lookup", "item_genres_lookup", "item_title_mean"} <= names
    ids_only = build(TwoTowerOptions(dim=4, layer_sizes=[4], use_features=False),
                     context(features=TINY_FEATURES))  # fmt: skip
    assert ids_only.count_params() == (12 * 4 + 4 * 4 + 4) + (8 * 4 + 4 * 4 + 4)


def test_two_tower_feature_rows_must_match_the_codes():
    bad = {"user": {"age": np.array([1, 2, 3])}}
    with pytest.raises(ValueError, match=r"features.user.age: expected 12 rows .* got 3"):
        build(TwoTowerOptions(dim=4), context(features=bad))


# --- retrieval --------------------------------------------------------------------------------


def hand_two_tower():
    """Ids only, identity Dense: query = user row, candidate = item row."""
    model = build(TwoTowerOptions(dim=2, layer_sizes=[2]), context(3, 4))
    eye = [np.eye(2, dtype="float32"), np.zeros(2, "float32")]
    query, candidate = model.get_layer("query_tower"), model.get_layer("candidate_tower")
    query.get_layer("user_embedding").set_weights([np.array([[1, 0], [0, 1], [-1, -1]], "float32")])
    candidate.get_layer("item_embedding").set_weights(
        [np.array([[1, 0], [0, 1], [0.5, 0.4], [-1, -1]], "float32")]
    )
    query.get_layer("user_dense_0").set_weights(eye)
    candidate.get_layer("item_dense_0").set_weights(eye)
    return model


def test_retrieval_metrics_by_hand():
    # scores u0: [1, 0, .5, -1] -> top 2 = i0, i2;  u1: [0, 1, .4, -1] -> i1, i2
    # u2: [-1, -1, -.9, 2] -> i3, i2
    users = np.array([0, 0, 0, 1, 2])
    items = np.array([0, 1, 3, 2, 0])
    ratings = np.array([5, 5, 4, 5, 3])  # relevant (== 5): (0, 0) hit, (0, 1) miss, (1, 2) hit
    m = retrieval_metrics(hand_two_tower(), users, items, ratings, n_items=4, k=2)
    assert (m["k"], m["n_pairs"], m["n_users"]) == (2, 3, 2)
    assert m["top_k_accuracy"] == pytest.approx(2 / 3)
    assert m["recall_at_k"] == pytest.approx((1 / 2 + 1) / 2)
    # u0: DCG 1 / IDCG (1 + 1/log2 3); u1: DCG 1/log2 3 / IDCG 1
    ndcg_u0 = 1 / (1 + 1 / np.log2(3))
    assert m["ndcg_at_k"] == pytest.approx((ndcg_u0 + 1 / np.log2(3)) / 2, rel=1e-5)
    none = retrieval_metrics(hand_two_tower(), users, items, ratings, n_items=4, k=10, threshold=6)
    assert none["k"] == 4 and none["n_pairs"] == 0 and np.isnan(none["top_k_accuracy"])


def test_retrieval_metrics_needs_the_towers():
    model = build(MFOptions(dim=2), context())
    with pytest.raises(ValueError, match="no 'query_tower' and 'candidate_tower' sub-models"):
        retrieval_metrics(model, np.array([0]), np.array([0]), np.array([5.0]), n_items=N_ITEMS)
