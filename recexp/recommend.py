"""``recexp recommend``: a trained run's top-N list for one user (or every user), best first.

The run's spec (``config.yaml``) rebuilds the same data (the same split and id codes,
checked against the run's dataset fingerprint) and the saved model scores every item the
user has not rated in training, through the evaluator's scorer (one matmul a batch for
the dot-product families). A user unseen in training gets the same fallback as
evaluation: the regularised biases baseline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recexp.errors import ConfigError, DataError
from recexp.runs import CONFIG, SUMMARY, RunDir


@dataclass
class Recommendations:
    user: Any
    known_user: bool  # rated something in training (else the biases fallback ranks items)
    n_rated: int  # items the user rated in training, left out unless asked for
    table: pd.DataFrame  # rank, item, predicted rating, training ratings, [title], [rated]
    notes: list[str] = field(default_factory=list)  # one line each: a run not completed, ...


def _raw_id(value: str, ids: pd.Index) -> Any:
    """A command-line id in the dtype of the run's raw ids (``"42"`` -> 42 for int ids)."""
    if pd.api.types.is_integer_dtype(ids.dtype):
        try:
            return int(value)
        except ValueError:
            return value
    return value


def load_run(run: str | Path, notes: list[str] | None = None) -> tuple[Any, Any, Any]:
    """``(config, data, model)`` of a finished run (a study or sweep: its selected trial);
    a note saying so is added to ``notes`` when that run did not complete."""
    from recexp.config import load_spec
    from recexp.data import prepare
    from recexp.models.protocol import Recommender
    from recexp.served_run import served_run
    from recexp.training.tf_start import import_tensorflow

    served = served_run(Path(run))
    if served.note is not None and notes is not None:
        notes.append(served.note)
    path = served.path
    config = load_spec(path / CONFIG)
    import_tensorflow()  # without its start-up lines on stderr
    model = Recommender.load(path)  # before the data: a broken model is reported first
    _check_architecture(model, path)
    data = prepare(config.dataset, config.seed)
    try:
        recorded = RunDir(path).metrics().fingerprint
    except ValueError as error:
        raise ConfigError(str(error), file=str(path)) from None
    if recorded and recorded != data.fingerprint:
        raise DataError(
            "the data no longer matches the run's dataset fingerprint "
            "(file changed or different RECEXP_DATA_DIR)",
            file=str(path),
        )
    return config, data, model


def _check_architecture(model: Any, path: Path) -> None:
    """The saved model must be the one the run trained (same parameter count)."""
    try:
        recorded = RunDir(path).read_json(SUMMARY).get("params")
    except (OSError, ValueError, AttributeError):
        return  # no readable summary.json: nothing to check against
    params = model.summary().params
    if isinstance(recorded, int) and recorded != params:
        raise ConfigError(
            f"the saved model has {params:,} parameters but the run trained {recorded:,} "
            f"(see {SUMMARY}): not this run's model",
            file=str(path),
        )


def recommend(
    run: str | Path,
    user: str,
    k: int = 10,
    include_rated: bool = False,
    min_ratings: int = 0,
    strict: bool = False,
) -> Recommendations:
    """The ``k`` items with the highest predicted rating for raw user id ``user``.

    ``min_ratings`` leaves out items with fewer training ratings (a handful of high
    ratings make an obscure item's bias, and so its prediction, high). A user the run's
    data does not know, or one without training ratings, gets the cold-start list (the
    biases fallback) with a note saying so; ``strict`` refuses them instead.
    """
    if k < 1:
        raise ConfigError("must be at least 1", key="--top", got=k)
    if min_ratings < 0:
        raise ConfigError("must be at least 0", key="--min-ratings", got=min_ratings)
    notes: list[str] = []
    config, data, model = load_run(run, notes)
    raw, code, known_user, rated = _user(data, user, strict, notes)
    lists = Lists(config, data, model, min_ratings, include_rated)
    items, _ = lists.top(np.array([code]), k, known_user)
    chosen = items[0][items[0] >= 0]
    table = lists.table(np.full(len(chosen), code), chosen, known_user)
    table.insert(0, "rank", np.arange(1, len(chosen) + 1))
    table = table.drop(columns="user")
    features = data.ratings.item_features
    if features is not None and "title" in features.columns:
        table["title"] = features["title"].reindex(table["item"]).to_numpy()
    if include_rated:
        table["rated"] = rated[chosen]
    return Recommendations(raw, known_user, int(rated.sum()), table, notes)


class Lists:
    """Top-N lists of a loaded run through the evaluator's scorer (:mod:`recexp.evaluation.top_n`):
    items seen in training with at least ``min_ratings`` ratings, the user's training
    items left out unless ``include_rated``. A cold-start user is ranked by the biases
    fallback (global mean + item bias), as evaluation predicts for them."""

    def __init__(self, config: Any, data: Any, model: Any, min_ratings: int, include_rated: bool):
        from recexp.evaluation.rating import fallback_for
        from recexp.evaluation.user_items import UserItems

        self.config, self.data, self.model = config, data, model
        self.popularity = np.bincount(data.train.item, minlength=data.n_items)
        self.allowed = (self.popularity > 0) & (self.popularity >= min_ratings)
        t = data.train
        self.excluded = (
            None
            if include_rated
            else UserItems.from_pairs(t.user, t.item, data.n_users, data.n_items)
        )
        self.fallback = fallback_for(data)

    def top(self, codes: np.ndarray, k: int, known: bool) -> tuple[np.ndarray, np.ndarray]:
        """``(items, scores)`` for user ``codes`` (all known, or one cold-start user)."""
        from recexp.evaluation.top_n import top_n

        if known:
            return top_n(self.model.scorer(), codes, k, self.allowed, self.excluded)
        row = self.fallback.item.astype(np.float32)
        return top_n(lambda u: np.broadcast_to(row, (len(u), len(row))), codes, k, self.allowed)

    def table(self, users: np.ndarray, items: np.ndarray, known: bool) -> pd.DataFrame:
        """user, item (raw ids), the predicted rating (or the family's score), training
        ratings of the item: evaluation's prediction, clipped as evaluation clips it."""
        from recexp.data.pipeline import Part
        from recexp.evaluation.rating import predict_part

        part = Part(
            user=users.astype(np.int32),
            item=items.astype(np.int32),
            rating=np.zeros(len(items), dtype=np.float32),
            rows=np.arange(len(items)),
            trained=np.full(len(items), known),
        )
        clip = self.config.training.clip_predictions and self.model.predicts_ratings
        value = predict_part(self.model.predict, self.data, part, self.fallback, clip=clip)
        column = "predicted" if self.model.predicts_ratings else "score"
        return pd.DataFrame(
            {
                "user": self.data.users.inverse(users) if len(users) else [],
                "item": self.data.items.inverse(items) if len(items) else [],
                column: value,
                "ratings": self.popularity[items],
            }
        )


def _user(data: Any, user: str, strict: bool, notes: list[str]) -> tuple[Any, int, bool, Any]:
    """The raw id, its code (-1: not in the vocabulary), whether it rated anything in
    training, and which items it rated; a cold-start user noted (or refused, strict)."""
    raw = _raw_id(user, data.users.ids)
    code = int(data.users.transform(np.array([raw]))[0])
    known_user = code >= 0 and bool((data.train.user == code).any())  # (vocabulary: all)
    if not known_user:
        notes.append(_cold_start(user, code >= 0, strict))
    rated = np.zeros(data.n_items, dtype=bool)
    if code >= 0:
        rated[data.train.item[data.train.user == code]] = True
    return raw, code, known_user, rated


def _cold_start(user: str, in_data: bool, strict: bool) -> str:
    what = "has no training ratings" if in_data else "is unknown (not in the run's data)"
    if strict:
        raise ConfigError(
            f"user {what}; --strict serves no cold-start list", key="--user", got=user
        )
    return f"user {user!r} {what}: the cold-start list (biases fallback: global mean + item bias)"


def render(result: Recommendations, format_: str, include_rated: bool) -> None:
    """Print ``result`` as a rich table, CSV or JSON."""
    table = result.table
    if format_ == "csv":
        print(table.to_csv(index=False), end="")
        return
    if format_ == "json":
        print(table.to_json(orient="records", indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    note = (
        f"{result.n_rated} items rated in training"
        + (" (included)" if include_rated else " left out")
        if result.known_user
        else "no training ratings: ranked by the biases fallback (global mean + item bias)"
    )
    out = Table(title=f"user {result.user}: {note}", title_justify="left")
    for column in table.columns:
        numeric = column in ("rank", "predicted", "score", "ratings")
        out.add_column(str(column), justify="right" if numeric else "left")
    for row in table.itertuples(index=False):
        out.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row))
    Console().print(out)
