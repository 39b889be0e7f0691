"""On the real ML-100K (seeded random 90/10 split, full ranking): the evaluator's numbers
for the most-popular list equal a plain per-user numpy loop over the same protocol."""

from __future__ import annotations

import numpy as np
import pytest

from recexp.config import validate
from recexp.data import prepare
from recexp.evaluation.evaluator import popularity_scorer
from recexp.evaluation.ranking import evaluate_ranking
from recexp.evaluation.ranking_data import ranking_protocol
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.skipif(
    not (SHARED_DATA / "ml-100k" / "u.data").is_file(), reason="shared/data/ml-100k is absent"
)


def straightforward(data, scores_of_user, k: int) -> dict[str, float]:
    """NDCG@k, Recall@k and MRR by one loop over users, written from the definitions."""
    train, val, test = data.train, data.val, data.test
    trained_items = set(np.unique(train.item).tolist())
    ndcg, recall, mrr = [], [], []
    for u in np.unique(test.user[test.known]):
        rated = set(train.item[train.user == u].tolist()) | set(
            val.item[(val.user == u) & val.known].tolist()
        )
        if not (train.user == u).any():
            continue
        relevant = set(test.item[(test.user == u) & test.known].tolist())
        candidates = sorted((trained_items - rated) | relevant)
        s = scores_of_user(u)[candidates]
        order = [candidates[i] for i in np.argsort(-s, kind="stable")]
        gains = [1.0 if item in relevant else 0.0 for item in order]
        dcg = sum(g / np.log2(i + 2) for i, g in enumerate(gains[:k]))
        ideal = sum(1 / np.log2(i + 2) for i in range(min(len(relevant), k)))
        ndcg.append(dcg / ideal)
        recall.append(sum(gains[:k]) / len(relevant))
        mrr.append(1.0 / (gains.index(1.0) + 1))
    return {f"ndcg@{k}": np.mean(ndcg), f"recall@{k}": np.mean(recall), "mrr": np.mean(mrr)}


def ml100k(monkeypatch, family: str, **options):
    monkeypatch.setenv("RECEXP_DATA_DIR", str(SHARED_DATA))
    config = validate(
        {
            "name": family,
            "dataset": {"name": "movielens-100k", "split": {"strategy": "random", "test": 0.1}},
            "model": {"family": family, **options},
        }
    )
    return config, prepare(config.dataset, config.seed)


def test_most_popular_on_ml100k_matches_a_plain_loop(monkeypatch):
    config, data = ml100k(monkeypatch, "biases")
    protocol = ranking_protocol(data, "test", config.evaluation.ranking, config.seed)
    got = evaluate_ranking(popularity_scorer(protocol.popularity), protocol).metrics
    counts = np.bincount(data.train.item, minlength=data.n_items).astype(np.float64)
    expected = straightforward(data, lambda u: counts, 10)
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, rel=1e-9), name
    assert len(protocol.users) > 900  # nearly every ML-100K user has test ratings


def test_ease_on_ml100k_matches_a_plain_numpy_ease_and_loop(monkeypatch):
    from recexp.models.build import build_recommender
    from recexp.training.events import TrainData

    config, data = ml100k(monkeypatch, "ease", l2=300.0)
    model = build_recommender(config, data)
    t = data.train
    model.fit(
        TrainData(t.user, t.item, t.rating, t.user[:0], t.item[:0], t.rating[:0],
                  data.n_users, data.n_items, config.training, config.optimizer),
        [],
    )  # fmt: skip
    protocol = ranking_protocol(data, "test", config.evaluation.ranking, config.seed)
    got = evaluate_ranking(model.scorer(), protocol).metrics
    # EASE from its formula (Steck 2019), in float64 numpy
    x = np.zeros((data.n_users, data.n_items))
    x[t.user, t.item] = 1.0
    gram = x.T @ x + 300.0 * np.eye(data.n_items)
    p = np.linalg.inv(gram)
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    scores = x @ b
    expected = straightforward(data, lambda u: scores[u], 10)
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, rel=1e-6), name
