"""The spec's ``training.objective``: what a Keras family is trained to do (a leaf: imports no
recexp module but the schema).

``rating`` regresses the ratings (``training.loss``: MSE by default), as recexp always did.
The implicit objectives treat each training rating (or each one at or above
``positive_min_rating``) as a positive interaction and draw ``negatives`` items per positive
inside the compiled engine's graph (see :mod:`recexp.training.negatives`):

- ``bce``: pointwise, as NCF (He et al. 2017): label 1 for the positive, 0 for each
  negative, sigmoid cross-entropy on the model's score (a logit).
- ``bpr``: pairwise (Rendle et al. 2009): ``-log sigmoid(s_pos - s_neg)`` per negative.
- ``sampled_softmax``: the positive against its negatives in one softmax, each logit
  corrected by ``-log Q(item)`` (the logQ correction of two-tower retrieval, Yi et al.
  2019); with ``sampler: in_batch`` the negatives are other positives of the same batch.

``training.batch_size`` counts positives: a step scores ``batch_size * (1 + negatives)``
(user, item) pairs. Under an implicit objective the model's output is a ranking score, not
a rating: no RMSE/MAE is reported and early stopping monitors a ranking metric
(``val_ndcg@k``, the default when the spec does not name one).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, NonNegativeFloat, PositiveInt, model_validator

from recexp.schema import FiniteFloat, Options

IMPLICIT = ("bce", "bpr", "sampled_softmax")
#: the families an implicit objective trains: Keras models of (user, item) ids
FAMILIES = ("gmf", "mf", "mlp", "neumf", "two_tower")
#: monitors that need ratings (meaningless when the output is a score)
RATING_MONITORS = ("rmse", "mae", "val_loss", "val_rmse", "val_mae")


class ObjectiveOptions(Options):
    """What training optimises; a bare name (``objective: bce``) takes the defaults."""

    name: Literal["rating", "bce", "bpr", "sampled_softmax"] = Field(
        "rating", description="rating (training.loss on ratings), bce, bpr or sampled_softmax"
    )
    negatives: PositiveInt = Field(4, description="negatives drawn per positive")
    sampler: Literal["uniform", "popularity", "in_batch"] = Field(
        "uniform",
        description="uniform over items; popularity: count^alpha; in_batch: the batch's "
        "other positives (popularity-distributed)",
    )
    alpha: NonNegativeFloat = Field(0.75, description="exponent of sampler: popularity")
    exclude_positives: bool = Field(
        True, description="redraw (twice) a negative the user has as a positive (not in_batch)"
    )
    positive_min_rating: FiniteFloat | None = Field(
        None, description="positives: ratings >= this (null: every training rating)"
    )

    @model_validator(mode="before")
    @classmethod
    def _bare_name(cls, data: Any) -> Any:
        return {"name": data} if isinstance(data, str) else data

    @property
    def implicit(self) -> bool:
        return self.name in IMPLICIT


def _name(objective: Any) -> Any:
    return objective.get("name") if isinstance(objective, dict) else objective


def implicit_defaults(data: Any) -> Any:
    """The raw spec with early stopping on ``val_ndcg@k`` (k: the first ranking cut-off)
    when the objective is implicit and the spec names no monitor; otherwise unchanged."""
    training = data.get("training") if isinstance(data, dict) else None
    if not isinstance(training, dict) or _name(training.get("objective")) not in IMPLICIT:
        return data
    stopping = training.get("early_stopping", {})
    if not isinstance(stopping, dict) or "monitor" in stopping:
        return data
    evaluation = data.get("evaluation")
    ranking = evaluation.get("ranking") if isinstance(evaluation, dict) else None
    cuts = ranking.get("k") if isinstance(ranking, dict) else None
    whole = isinstance(cuts, list) and bool(cuts) and all(isinstance(c, int) for c in cuts)
    k = min(cuts) if whole and isinstance(cuts, list) else 10
    stopping = {**stopping, "monitor": f"val_ndcg@{k}"}
    return {**data, "training": {**training, "early_stopping": stopping}}


def objective_problem(config: Any) -> tuple[str, str, Any] | None:
    """A spec setting an implicit objective cannot go with, as ``(dotted key, problem,
    value)``; None when all is well (or the objective is ``rating``)."""
    objective, training, model = config.training.objective, config.training, config.model
    if not objective.implicit:
        return None
    if model.family not in FAMILIES:
        return (
            "training.objective.name",
            f"{objective.name} trains the id families ({', '.join(FAMILIES)}), not {model.family}",
            objective.name,
        )
    if training.engine != "compiled":
        problem = f"{objective.name} draws its negatives in engine: compiled"
        return "training.engine", problem, training.engine
    for key in ("output", "output_activation"):
        value = getattr(model, key, "linear")
        if value != "linear":
            problem = f"an implicit objective trains a score (logit): set {key}: linear"
            return f"model.{key}", problem, value
    stopping = training.early_stopping
    if stopping is not None and stopping.monitor in RATING_MONITORS:
        problem = f"{objective.name} predicts scores, not ratings: monitor val_ndcg@10 or loss"
        return "training.early_stopping.monitor", problem, stopping.monitor
    if (
        objective.sampler == "in_batch"
        and training.batch_size != "full"
        and (training.batch_size <= objective.negatives)
    ):
        problem = f"in_batch negatives need batch_size above negatives ({objective.negatives})"
        return "training.batch_size", problem, training.batch_size
    return None
