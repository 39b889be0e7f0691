"""The top-N baselines (popularity, item_knn, ease) on a 4 users x 5 items table worked
out by hand: counts, cosine similarities with and without shrinkage and pruning, EASE
against the formula and against one ridge regression per item."""

from __future__ import annotations

from math import sqrt
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from recexp.cli import app
from recexp.config import TrainingOptions
from recexp.errors import ConfigError
from recexp.models import MODELS, item_knn
from recexp.models.build import make_recommender
from recexp.models.ease import EASEOptions, build_ease
from recexp.models.item_knn import ItemKNNOptions
from recexp.models.protocol import Recommender
from recexp.models.topn import TopNRecommender, interaction_matrix
from recexp.training import TrainData
from recexp.training.optimizers import AdamOptions

from ..helpers import assert_recommender_round_trip
from .test_families import context

# user: (item, rating), ...      the binary matrix X     columns' users
#  0:  (0, 5) (1, 4) (2, 3)       1 1 1 0 0               item 0: users 0 1 3
#  1:  (0, 4) (1, 2)              1 1 0 0 0               item 1: users 0 1 2
#  2:  (1, 5) (3, 1)              0 1 0 1 0               item 2: user 0
#  3:  (0, 2) (3, 5) (4, 4)       1 0 0 1 1               item 3: users 2 3;  item 4: user 3
USER = np.array([0, 0, 0, 1, 1, 2, 2, 3, 3, 3], np.int32)
ITEM = np.array([0, 1, 2, 0, 1, 1, 3, 0, 3, 4], np.int32)
RATING = np.array([5, 4, 3, 4, 2, 5, 1, 2, 5, 4], np.float32)
X = np.array([[1, 1, 1, 0, 0], [1, 1, 0, 0, 0], [0, 1, 0, 1, 0], [1, 0, 0, 1, 1]], float)
N_USERS, N_ITEMS = X.shape

# cosine of the binary columns: co-counts over the product of sqrt(counts) (3, 3, 1, 2, 1)
S3, S6, S2 = 1 / sqrt(3), 1 / sqrt(6), 1 / sqrt(2)
COSINE = np.array(
    [
        [0, 2 / 3, S3, S6, S3],
        [2 / 3, 0, S3, S6, 0],
        [S3, S3, 0, 0, 0],
        [S6, S6, 0, 0, S2],
        [S3, 0, 0, S2, 0],
    ]
)


def data(user=USER, item=ITEM, rating=RATING) -> TrainData:
    return TrainData(
        user, item, rating, user[:2], item[:2], rating[:2], N_USERS, N_ITEMS,
        options=TrainingOptions(), optimizer=AdamOptions(), seed=0,
    )  # fmt: skip


def fitted(family: str, **options: object) -> TopNRecommender:
    spec = MODELS.get(family).options(family=family, **options)
    train = data()
    ctx = context(n_users=N_USERS, n_items=N_ITEMS)
    model = make_recommender(spec, ctx, train.options, train.optimizer, len(train))
    assert isinstance(model, TopNRecommender) and not model.predicts_ratings
    model.fit(train, [])
    return model


def all_scores(model: Recommender) -> np.ndarray:
    return model.score_items(np.arange(N_USERS, dtype=np.int32))


def test_interaction_matrix_counts_a_pair_once_and_keeps_min_rating():
    twice = data(np.append(USER, 0), np.append(ITEM, 0), np.append(RATING, 1.0))
    np.testing.assert_array_equal(interaction_matrix(twice).toarray(), X)
    # the later of a pair's two ratings: user 0 rated item 0 a 5, then a 1
    assert interaction_matrix(twice, values="rating")[0, 0] == 1.0
    kept = interaction_matrix(data(), min_rating=4).toarray()
    np.testing.assert_array_equal(
        np.argwhere(kept), [[0, 0], [0, 1], [1, 0], [2, 1], [3, 3], [3, 4]]
    )


def test_popularity_counts_interactions():
    expected = np.tile([3, 3, 1, 2, 1], (N_USERS, 1))
    np.testing.assert_array_equal(all_scores(fitted("popularity")), expected)
    # only ratings >= 4: item 0 by users 0, 1; item 1 by 0, 2; item 2 by none; 3 and 4 by 3
    counts = all_scores(fitted("popularity", min_rating=4))[0]
    np.testing.assert_array_equal(counts, [2, 2, 0, 1, 1])


def test_item_knn_cosine_by_hand():
    model = fitted("item_knn")
    np.testing.assert_allclose(model.similarity.toarray(), COSINE, rtol=1e-12)
    # user 2 has items 1 and 3: sim(1, j) + sim(3, j)
    np.testing.assert_allclose(all_scores(model)[2], [2 / 3 + S6, S6, S3, S6, S2], rtol=1e-6)
    np.testing.assert_allclose(all_scores(model), X @ COSINE, rtol=1e-6)


def test_item_knn_shrinkage_divides_by_norms_plus_shrinkage():
    sim = fitted("item_knn", shrinkage=1.0).similarity.toarray()
    assert sim[0, 1] == pytest.approx(2 / (3 + 1))
    assert sim[0, 3] == pytest.approx(1 / (sqrt(6) + 1))
    assert sim[3, 4] == pytest.approx(1 / (sqrt(2) + 1))
    assert sim[1, 4] == 0 and np.diag(sim).sum() == 0


def test_item_knn_keeps_each_items_nearest_neighbours():
    # one neighbour per target item j (column j): ties go to the lower item code
    one = np.zeros((N_ITEMS, N_ITEMS))
    one[1, 0] = one[0, 1] = 2 / 3  # items 0 and 1 are each other's nearest
    one[0, 2] = S3  # item 2: items 0 and 1 tie at 1/sqrt(3); item 0 is kept
    one[4, 3] = one[3, 4] = S2
    np.testing.assert_allclose(fitted("item_knn", neighbors=1).similarity.toarray(), one)
    two = fitted("item_knn", neighbors=2).similarity.toarray()
    assert (np.count_nonzero(two, axis=0) == [2, 2, 2, 2, 2]).all()
    assert two[2, 0] == pytest.approx(S3) and two[4, 0] == 0  # item 0: items 1, then 2 (tie 4)
    np.testing.assert_allclose(fitted("item_knn", neighbors=4).similarity.toarray(), COSINE)


def test_item_knn_blocks_of_target_items_give_the_same_matrix(monkeypatch):
    whole = fitted("item_knn", neighbors=2).similarity.toarray()
    monkeypatch.setattr(item_knn, "BLOCK_CELLS", 2 * N_ITEMS)  # blocks of 2 target items
    np.testing.assert_array_equal(fitted("item_knn", neighbors=2).similarity.toarray(), whole)


def test_item_knn_rating_weighting():
    sim = fitted("item_knn", weighting="rating").similarity.toarray()
    # items 0 and 1 as rating vectors over users (5, 4, 0, 2) and (4, 2, 5, 0)
    assert sim[0, 1] == pytest.approx((5 * 4 + 4 * 2) / 45)


def ease_by_formula(x: np.ndarray, l2: float) -> np.ndarray:
    p = np.linalg.inv(x.T @ x + l2 * np.eye(x.shape[1]))
    return np.eye(x.shape[1]) - p / np.diag(p)  # B = I - P diag(1 / diag(P))


@pytest.mark.parametrize("l2", [0.5, 10.0])
def test_ease_weights_match_the_formula_and_per_item_ridge(l2: float):
    model = fitted("ease", l2=l2)
    b = model.weights
    assert b.dtype == np.float32 and (np.diag(b) == 0).all()
    np.testing.assert_allclose(b, ease_by_formula(X, l2), atol=1e-6)
    # each column: ridge regression of item j on the other items (Steck's constraint)
    for j in range(N_ITEMS):
        others = np.delete(X, j, axis=1)
        ridge = np.linalg.solve(others.T @ others + l2 * np.eye(N_ITEMS - 1), others.T @ X[:, j])
        np.testing.assert_allclose(np.delete(b[:, j], j), ridge, atol=1e-6)
    np.testing.assert_allclose(all_scores(model), X @ b, rtol=1e-6)


@pytest.mark.parametrize(
    "family, options",
    [("popularity", {}), ("item_knn", {"neighbors": 2, "shrinkage": 0.5}), ("ease", {"l2": 2.0})],
)
def test_save_load_and_predict_on_the_grid(family: str, options: dict, tmp_path: Path):
    model = fitted(family, **options)
    user = np.repeat(np.arange(N_USERS, dtype=np.int32), N_ITEMS)
    item = np.tile(np.arange(N_ITEMS, dtype=np.int32), N_USERS)
    np.testing.assert_array_equal(model.predict(user, item), all_scores(model).ravel())
    assert_recommender_round_trip(model, user, item, tmp_path)
    loaded = Recommender.load(tmp_path / "saved")
    assert loaded.options == model.options  # type: ignore[attr-defined]
    np.testing.assert_array_equal(all_scores(loaded), all_scores(model))
    # an unknown code (< 0) scores 0, and a batch of users in any order
    assert model.predict(np.array([-1, 2]), np.array([0, -1])).tolist() == [0, 0]
    np.testing.assert_array_equal(model.score_items(np.array([3, 0])), all_scores(model)[[3, 0]])


def test_history_row_has_no_rating_error():
    rows: list[dict] = []

    class Rows:
        def on_epoch(self, row: dict) -> None:
            rows.append(row)

    model = MODELS.get("ease").fn(EASEOptions(), context(n_users=N_USERS, n_items=N_ITEMS))
    result = model.fit(data(), [Rows()])
    assert rows == result.history and set(rows[0]) == {"epoch", "learning_rate", "seconds"}


def test_ease_refuses_too_many_items_when_built():
    with pytest.raises(ConfigError) as info:
        build_ease(EASEOptions(max_items=4), context(n_users=N_USERS, n_items=N_ITEMS))
    assert str(info.value) == (
        "model.max_items: ease inverts a dense items x items matrix: 5 items need about "
        "0.0 MiB (float64, 3 copies), more than max_items (4) (got 4)"
    )


SPEC = """name: big
dataset: {name: synthetic, n_users: 100, n_items: 50000, n_ratings: 1000}
model: {family: ease}
"""


def test_ease_refuses_too_many_items_at_validation(tmp_path: Path):
    path = tmp_path / "ease.yaml"
    path.write_text(SPEC)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"{path}: model.max_items: ease inverts a dense items x items matrix: 50,000 items "
        "need about 55.9 GiB (float64, 3 copies), more than max_items (40,000) (got 40000)"
    )


def test_rating_values_need_untransformed_ratings(tmp_path: Path):
    path = tmp_path / "knn.yaml"
    spec = SPEC.replace("50000", "50").replace("{family: ease}", "{family: item_knn}")
    path.write_text(spec.replace("n_ratings: 1000}", "n_ratings: 1000, transform: minmax}"))
    runner = CliRunner()
    assert runner.invoke(app, ["validate", str(path)]).exit_code == 0  # binary: no values read
    result = runner.invoke(app, ["validate", str(path), "--set", "model.weighting=rating"])
    assert result.exit_code == 2 and result.stderr.strip() == (
        f"{path}: dataset.transform: item_knn reads ratings in rating units: ratings must "
        "stay untransformed (got 'minmax')"
    )
    assert ItemKNNOptions(min_rating=4).reads_rating_values()
