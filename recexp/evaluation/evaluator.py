"""The evaluator: one fitted model -> its part of metrics.json and the tables beside it.

Rating metrics (:mod:`recexp.evaluation.rating`) for families that predict ratings, and
top-N metrics (:mod:`recexp.evaluation.ranking`) for every family, on val and test; the
same top-N protocol applied to the most-popular list on test, so each run says whether
its lists beat "most popular" (a model with the best RMSE often does not: Cremonesi et
al. 2010). The evaluator only asks the model for ``predict`` and ``scorer``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from recexp.config import ExperimentConfig
from recexp.data.pipeline import Dataset
from recexp.evaluation.ranking import RankingResult, Scorer, evaluate_ranking
from recexp.evaluation.ranking_data import ranking_protocol
from recexp.evaluation.rating import (
    baselines,
    fallback_for,
    no_better_than_biases,
    predict_part,
    scores,
)
from recexp.models.protocol import EvalPairs, Recommender
from recexp.run_metrics import Metrics, PartScores, RankingFacts


@dataclass
class Evaluation:
    """The evaluator's part of metrics.json, and the tables written beside it."""

    metrics: Metrics
    predictions: Any  # pandas.DataFrame: user, item, rating, prediction, fallback (or None)
    ranking_users: Any = None  # pandas.DataFrame: the test users' top-N metrics (or None)


def evaluate(model: Recommender, config: ExperimentConfig, data: Dataset) -> Evaluation:
    """Val and test scores, the baselines on the same test set, extra metrics, warnings."""
    start = time.perf_counter()
    metrics, predictions = _rating_part(model, config, data)
    metrics.predicts_ratings = model.predicts_ratings
    ranking_users = None
    if config.evaluation.ranking is not None:
        ranking_users = _ranking_part(model, config, data, metrics)
    metrics.eval_seconds = round(time.perf_counter() - start, 3)
    warnings = [no_better_than_biases(config.model.family, metrics), below_popularity(metrics)]
    metrics.warnings = [w for w in warnings if w]
    return Evaluation(metrics, predictions, ranking_users)


def _rating_part(model: Recommender, config: ExperimentConfig, data: Dataset) -> tuple[Any, Any]:
    import pandas as pd

    fallback = fallback_for(data)
    test = data.test
    if not model.predicts_ratings:  # ease, item_knn, popularity: scores, not ratings
        metrics = Metrics(val=PartScores(n=len(data.val)), test=PartScores(n=len(test)))
        metrics.baselines = baselines(data, fallback)
        return metrics, None
    clip = config.training.clip_predictions
    val_pred = predict_part(model.predict, data, data.val, fallback, clip)
    test_pred = predict_part(model.predict, data, test, fallback, clip)
    frame = data.ratings.frame
    predictions = pd.DataFrame(
        {
            "user": frame["user"].to_numpy()[test.rows],
            "item": frame["item"].to_numpy()[test.rows],
            "rating": test.rating,
            "prediction": test_pred,
            "fallback": ~test.known,
        }
    )
    metrics = Metrics(
        val=scores(data, data.val, val_pred),
        test=scores(data, test, test_pred),
        baselines=baselines(data, fallback),
    )
    known = test.known
    pairs = EvalPairs(
        test.user[known], test.item[known], test.rating[known], data.n_items, data.scale.max
    )
    extra = model.extra_metrics(pairs)
    if extra:
        metrics.retrieval = extra
    return metrics, predictions


def _ranking_part(
    model: Recommender, config: ExperimentConfig, data: Dataset, metrics: Metrics
) -> Any:
    """Top-N metrics of val and test into ``metrics``; the test users' table."""
    options = config.evaluation.ranking
    assert options is not None
    score = model.scorer()
    results: dict[str, RankingResult] = {}
    for part in ("val", "test"):
        protocol = ranking_protocol(data, part, options, config.seed)
        if len(protocol.users):
            results[part] = evaluate_ranking(score, protocol)
            getattr(metrics, part).ranking = results[part].metrics
        if part == "test" and len(protocol.users):
            popular = evaluate_ranking(popularity_scorer(protocol.popularity), protocol)
            metrics.baselines.popularity_test_ranking = popular.metrics
            facts = protocol.describe()
    if "test" not in results:
        return None
    test = results["test"]
    metrics.ranking = RankingFacts(
        **facts,
        val_users=len(results["val"].per_user["user"]) if "val" in results else 0,
        seconds=round(sum(r.seconds for r in results.values()), 3),
        users_per_second=round(test.users_per_second, 1),
    )
    return ranking_table(data, test)


def popularity_scorer(popularity: np.ndarray) -> Scorer:
    """Every user's scores are the items' training counts: the most-popular list."""
    row = popularity.astype(np.float32)
    return lambda users: np.broadcast_to(row, (len(users), len(row)))


def ranking_table(data: Dataset, result: RankingResult) -> Any:
    """One row per evaluated user: the raw user id and each per-user metric."""
    import pandas as pd

    table = {"user": data.users.inverse(result.per_user["user"])}
    table.update({k: v for k, v in result.per_user.items() if k != "user"})
    return pd.DataFrame(table)


def below_popularity(metrics: Metrics) -> str | None:
    """A warning when the model's test NDCG at the first cut-off is below most-popular's."""
    own, popular = metrics.test.ranking, metrics.baselines.popularity_test_ranking
    if not own or not popular or metrics.ranking is None or not metrics.ranking.k:
        return None
    key = f"ndcg@{metrics.ranking.k[0]}"
    if own.get(key, 0.0) >= popular.get(key, 0.0):
        return None
    advice = (
        " (rating-trained models rank obscure items with a few high ratings first: try "
        "the ease or item_knn families, or a top-N objective)"
        if metrics.predicts_ratings
        else ""
    )
    return (
        f"test NDCG@{metrics.ranking.k[0]} {own[key]:.4f} is below the most-popular "
        f"list's ({popular[key]:.4f}): its top-N lists are worse than recommending the "
        f"most popular items{advice}"
    )
