"""Top-N metrics on lists worked out by hand (three users, six items)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recexp.evaluation.options import RankingOptions
from recexp.evaluation.ranking import RankingProtocol, evaluate_ranking
from recexp.evaluation.ranking_metrics import at_k, first_hit_rank, top_k
from recexp.evaluation.user_items import UserItems

INF = -np.inf
L2_3 = math.log2(3)


def test_top_k_orders_by_score_then_by_the_lower_code():
    scores = np.array([[0.1, 0.9, 0.5, 0.9, INF], [1.0, 1.0, 1.0, 0.0, 0.0]])
    assert top_k(scores, 3).tolist() == [[1, 3, 2], [0, 1, 2]]
    assert top_k(scores, 2).tolist() == [[1, 3], [0, 1]]
    # fewer candidates than k: the list ends in non-candidates
    assert top_k(np.array([[INF, 0.2, INF]]), 2).tolist()[0][0] == 1


def test_top_k_equals_a_stable_argsort_on_many_ties():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 4, size=(50, 40)).astype(np.float32)
    scores[rng.random(scores.shape) < 0.2] = INF
    for k in (1, 5, 17, 40):
        expected = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        assert np.array_equal(top_k(scores, k), expected)


def test_first_hit_rank_counts_better_items_and_lower_coded_ties():
    scores = np.array([[0.9, 0.8, 0.7, 0.6], [1.0, 1.0, 1.0, 0.0], [INF, 0.5, INF, 0.2]])
    relevant = np.array([[0, 1, 0, 1], [0, 0, 1, 0], [0, 0, 0, 1]], bool)
    assert first_hit_rank(scores, relevant).tolist() == [2, 3, 2]


def test_metrics_at_k_by_hand():
    # user 0: list [0, 1, 2], relevant {1, 4}: one hit at rank 2
    # user 1: no hit; user 2: one relevant item, hit at rank 3
    hits = np.array([[0, 1, 0], [0, 0, 0], [0, 0, 1]], bool)
    n_relevant = np.array([2, 1, 1])
    got = at_k(hits, n_relevant, 3)
    assert got["hr"].tolist() == [1.0, 0.0, 1.0]
    assert got["precision"] == pytest.approx([1 / 3, 0, 1 / 3])
    assert got["recall"] == pytest.approx([1 / 2, 0, 1])
    assert got["ndcg"] == pytest.approx([(1 / L2_3) / (1 + 1 / L2_3), 0, 1 / 2])
    assert got["map"] == pytest.approx([(1 / 2) / 2, 0, (1 / 3) / 1])
    # at k = 1 nobody hits; at k = 2 user 0's ideal DCG is two hits
    assert at_k(hits, n_relevant, 1)["ndcg"].tolist() == [0.0, 0.0, 0.0]


def protocol(k: list[int], candidates: str = "unrated") -> RankingProtocol:
    """Three users, six items; user 0 rated items 5 in train, users 1, 2 rated 0."""
    n_items = 6
    train = UserItems.from_pairs(np.array([0, 1, 2]), np.array([5, 0, 0]), 3, n_items)
    relevant = UserItems.from_pairs(np.array([0, 0, 1, 2]), np.array([1, 4, 2, 3]), 3, n_items)
    return RankingProtocol(
        options=RankingOptions(k=k, candidates=candidates, negatives=2),
        users=np.array([0, 1, 2], np.int32),
        relevant=relevant,
        excluded=train,
        popularity=np.array([2, 1, 1, 1, 1, 1]),
        n_train_users=3,
        seed=0,
        never=train.union(relevant),
        catalog=np.ones(n_items, bool),
    )


def test_evaluate_ranking_by_hand():
    # every user scores items 0..5 as 0.9 .. 0.4; train items are masked
    def score(users):
        return np.tile(np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4], np.float32), (len(users), 1))

    result = evaluate_ranking(score, protocol([2]))
    # lists: user 0 [0, 1] (hit 1 at rank 2 of relevant {1, 4}); users 1, 2 [1, 2]
    # (user 1 hits 2 at rank 2; user 2's item 3 is at rank 3)
    assert result.per_user["hr@2"].tolist() == [1.0, 1.0, 0.0]
    assert result.per_user["recall@2"].tolist() == [0.5, 1.0, 0.0]
    assert result.per_user["mrr"] == pytest.approx([1 / 2, 1 / 2, 1 / 3])
    assert result.metrics["ndcg@2"] == pytest.approx(
        ((1 / L2_3) / (1 + 1 / L2_3) + 1 / L2_3 + 0) / 3
    )
    # coverage: items 0, 1, 2 of six shown; popularity of shown: (2 + 1) + (1 + 1) * 2 / 6
    assert result.metrics["coverage@2"] == pytest.approx(3 / 6)
    assert result.metrics["popularity@2"] == pytest.approx((2 + 1 + 1 + 1 + 1 + 1) / 6)
    share = np.array([2, 1, 1, 1, 1, 1]) / 3
    novelty = -np.log2(share)[[0, 1, 1, 2, 1, 2]].mean()
    assert result.metrics["novelty@2"] == pytest.approx(novelty)


def test_sampled_candidates_are_the_relevant_items_and_n_negatives():
    def score(users):
        return np.zeros((len(users), 6), np.float32)

    p = protocol([3], candidates="sampled")
    relevant = p.relevant.dense(p.users)
    mask = p.candidates(p.users, relevant, batch=0)
    never = p.never.dense(p.users) if p.never else None
    assert never is not None
    negatives = mask & ~relevant
    assert negatives.sum(axis=1).tolist() == [2, 2, 2]
    assert not (negatives & never).any()  # never an item the user rated anywhere
    assert (mask & relevant).sum() == relevant.sum()
    again = p.candidates(p.users, relevant, batch=0)
    assert np.array_equal(mask, again)  # seeded
    evaluate_ranking(score, p)
