"""metrics.json as a typed record: written by the evaluator and the parent runs, read by
compare, recommend, sweep and tune through :meth:`recexp.runs.RunDir.metrics`.

Every field is optional so that older and partial runs still read; fields a family or a
parent adds of its own (``retrieval``, ``folds``, ``sweep``, ...) are kept as extras.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow", protected_namespaces=())


class PartScores(_Record):
    """RMSE and MAE of one part (val or test) in rating units; ``_std`` over children."""

    rmse: float | None = None
    mae: float | None = None
    n: int | None = None
    n_fallback: int | None = None
    oracle_rmse: float | None = None
    rmse_std: float | None = None
    mae_std: float | None = None
    #: top-N metrics of the part (``ndcg@10``, ``recall@20``, ``mrr``, ``coverage@10``, ...)
    ranking: dict[str, float] | None = None
    ranking_std: dict[str, float] | None = None


class BaselineScores(_Record):
    global_mean_test_rmse: float | None = None
    biases_test_rmse: float | None = None
    #: the most-popular-items list on the same test protocol (``ndcg@10``, ...)
    popularity_test_ranking: dict[str, float] | None = None


class RankingFacts(_Record):
    """How the top-N lists were judged, and what it cost."""

    candidates: str | None = None  # unrated (full ranking) or sampled
    negatives: int | None = None
    k: list[int] | None = None
    min_rating: float | None = None
    users: int | None = None  # test users evaluated
    val_users: int | None = None
    sampled_users: bool | None = None
    seconds: float | None = None
    users_per_second: float | None = None


class Metrics(_Record):
    """One run's (or one parent run's) scores and facts."""

    name: str | None = None
    dataset: str | None = None
    model: str | None = None
    embedding: str | None = None
    optimizer: str | None = None
    batch_size: int | str | None = None
    params: int | None = None
    embedding_params: int | None = None
    embedding_bytes: int | None = None
    embedding_compression: float | None = None
    embedding_tables: list[dict[str, Any]] | None = None
    val: PartScores = PartScores()
    test: PartScores = PartScores()
    baselines: BaselineScores = BaselineScores()
    best_epoch: int | float | None = None
    best_monitored: float | None = None
    monitor: str | None = None
    epochs_run: int | float | None = None
    early_stopped: bool | None = None
    interrupted: bool | None = None
    pruned: str | None = None
    train_seconds: float | None = None
    data_seconds: float | None = None
    eval_seconds: float | None = None
    ratings_per_second: float | None = None
    peak_rss_mb: float | None = None
    data: dict[str, Any] | None = None
    n_users: int | None = None
    n_items: int | None = None
    fingerprint: dict[str, Any] | None = None
    warnings: list[str] | None = None
    retrieval: dict[str, Any] | None = None
    ranking: RankingFacts | None = None
    predicts_ratings: bool | None = None

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Metrics:
        """``data`` as a record; ``ValueError`` naming the first bad field."""
        try:
            return cls.model_validate(data)
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ValueError(f"metrics.json: {where}: {first['msg'].lower()}") from None

    def as_json(self) -> dict[str, Any]:
        """The fields that were set, in JSON types (what metrics.json holds)."""
        return self.model_dump(mode="json", exclude_unset=True)
