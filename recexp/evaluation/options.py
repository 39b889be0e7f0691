"""The spec's ``evaluation`` block: how top-N lists are judged (a leaf: imports no recexp
module but the schema).

Defaults follow the full-ranking protocol of RecBole, Elliot and LensKit: every item
seen in training that the user did not rate in train is a candidate, the user's items in
the evaluated part are the relevant ones. ``candidates: sampled`` is the NCF protocol
(each user's relevant items ranked among ``negatives`` sampled items); its numbers are
reported as sampled, since sampled metrics can reorder models (Krichene & Rendle 2020).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt, field_validator

from recexp.schema import FiniteFloat, Options, Seed

#: the per-user metrics computed at every cut-off k (MRR is computed over the full ranking)
AT_K = ("ndcg", "recall", "hr", "precision", "map")
#: the list-level measures at every k: share of the catalog recommended, popularity, novelty
LIST_MEASURES = ("coverage", "popularity", "novelty")


class RelevantOptions(Options):
    """Which of a user's held-out ratings count as relevant."""

    min_rating: FiniteFloat | None = Field(
        None, description="only ratings >= this are relevant (null: every held-out rating)"
    )


class RankingOptions(Options):
    """Top-N evaluation on val and test: Recall, NDCG, HR, Precision, MAP at each k; MRR."""

    k: list[PositiveInt] = Field([10, 20], min_length=1, description="cut-offs, e.g. [10, 20]")
    candidates: Literal["unrated", "sampled"] = Field(
        "unrated",
        description="unrated: every trained item the user did not rate in train (full "
        "ranking); sampled: the relevant items among `negatives` sampled unrated items",
    )
    negatives: PositiveInt = Field(99, description="sampled items per user (candidates: sampled)")
    relevant: RelevantOptions = Field(default_factory=RelevantOptions)
    users: PositiveInt | Literal["all"] = Field(
        "all", description="evaluate a seeded sample of this many users (all: every user)"
    )
    seed: Seed | None = Field(None, description="seed of the samples (null: the spec's seed)")
    batch_users: PositiveInt | Literal["auto"] = Field(
        "auto", description="users scored per batch (auto: about 64 MiB of scores a batch)"
    )

    @field_validator("k")
    @classmethod
    def _sorted_unique(cls, value: list[int]) -> list[int]:
        return sorted(set(value))


class EvaluationOptions(Options):
    """What the evaluator measures beyond RMSE/MAE."""

    ranking: RankingOptions | None = Field(
        default_factory=RankingOptions, description="top-N evaluation (null: off)"
    )


def ranking_metric_names(k: list[int]) -> list[str]:
    """Every name a ranking evaluation logs, e.g. ``ndcg@10``, ``mrr``, ``coverage@10``."""
    return [f"{m}@{n}" for n in k for m in (*AT_K, *LIST_MEASURES)] + ["mrr"]


def is_ranking_metric(name: str) -> bool:
    """``val_ndcg@10``, ``test_recall@20``, ``val_mrr``: a metric the ranking evaluation logs."""
    bare = name.split("_", 1)[1] if name.startswith(("val_", "test_")) else name
    head, _, cut = bare.partition("@")
    if bare == "mrr":
        return True
    return head in (*AT_K, *LIST_MEASURES) and cut.isdigit() and int(cut) > 0


def monitor_problem(monitor: str, ranking: RankingOptions | None) -> str | None:
    """Why ``monitor`` (an early-stopping or tuning metric) cannot be logged with ``ranking``
    (the spec's ``evaluation.ranking``), or None when it can."""
    if not is_ranking_metric(monitor):
        return None
    if monitor.split("_", 1)[-1].partition("@")[0] in LIST_MEASURES:
        return "coverage, popularity and novelty describe lists; monitor an accuracy metric"
    if ranking is None:
        return "a ranking metric needs evaluation.ranking (it is null)"
    cut = monitor.partition("@")[2]
    if cut and int(cut) not in ranking.k:
        return f"@{cut} is not one of evaluation.ranking.k ({', '.join(map(str, ranking.k))})"
    return None
