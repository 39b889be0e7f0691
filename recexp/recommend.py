"""``recexp recommend``: a trained run's predicted ratings for one user, best first.

The run's spec (``config.yaml``) rebuilds the same data (the same split and id codes,
checked against the run's dataset fingerprint) and the saved model scores every item the
user has not rated in training. Pairs with an id unseen in training get the same
fallback as evaluation: the regularised biases baseline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recexp.errors import ConfigError, DataError


@dataclass
class Recommendations:
    user: Any
    known_user: bool  # rated something in training (else the biases fallback ranks items)
    n_rated: int  # items the user rated in training, left out unless asked for
    table: pd.DataFrame  # rank, item, predicted rating, training ratings, [title], [rated]


def _raw_id(value: str, ids: pd.Index) -> Any:
    """A command-line id in the dtype of the run's raw ids (``"42"`` -> 42 for int ids)."""
    if pd.api.types.is_integer_dtype(ids.dtype):
        try:
            return int(value)
        except ValueError:
            return value
    return value


def load_run(run: str | Path) -> tuple[Any, Any, Any]:
    """``(config, data, predict)`` of a finished run; ``predict(user_codes, item_codes)``."""
    from recexp.config import load_spec
    from recexp.data import prepare

    path = Path(run)
    for name in ("config.yaml", "metrics.json"):
        if not (path / name).is_file():
            raise ConfigError(f"not a finished recexp run: no {name}", file=str(path))
    sweep = path / "sweep.json"
    if sweep.is_file():  # a sweep: its selected trial
        record = json.loads(sweep.read_text())
        if record.get("selected") is None:
            raise ConfigError("this sweep selected no trial (yet)", file=str(path))
        path = path / record["trials"][record["selected"]]["path"]
    else:
        for kind in ("folds", "seeds"):
            if (path / kind).is_dir():
                raise ConfigError(
                    f"this run keeps one model per {kind[:-1]}: pass one of its {kind}/ runs",
                    file=str(path),
                )
    if not ((path / "model.npz").is_file() or (path / "model.keras").is_file()):
        raise ConfigError("the run saved no model (model.keras or model.npz)", file=str(path))
    config = load_spec(path / "config.yaml")
    data = prepare(config.dataset, config.seed)
    recorded = json.loads((path / "metrics.json").read_text()).get("fingerprint")
    if recorded and recorded != data.fingerprint:
        raise DataError(
            "the data no longer matches the run's dataset fingerprint "
            "(file changed or different RECEXP_DATA_DIR)",
            file=str(path),
        )

    if (path / "model.npz").is_file():
        from recexp.baselines import Biases

        saved = np.load(path / "model.npz")
        biases = Biases(float(saved["mu"]), saved["user"], saved["item"])
        return config, data, biases.predict
    from recexp.tfinit import import_tensorflow

    import_tensorflow()
    import keras

    import recexp.embeddings.layers  # noqa: F401  (registers recexp's serializable classes)
    import recexp.models.layers  # noqa: F401
    from recexp.training import predict_fn

    model = keras.saving.load_model(path / "model.keras", compile=False)
    return config, data, predict_fn(model, config.training.eval_batch_size)


def recommend(
    run: str | Path,
    user: str,
    k: int = 10,
    include_rated: bool = False,
    min_ratings: int = 0,
) -> Recommendations:
    """The ``k`` items with the highest predicted rating for raw user id ``user``.

    ``min_ratings`` leaves out items with fewer training ratings (a handful of high
    ratings make an obscure item's bias, and so its prediction, high).
    """
    from recexp.baselines import fit_biases
    from recexp.data.pipeline import Part
    from recexp.evaluation import predict_part

    if k < 1:
        raise ConfigError("must be at least 1", key="--top", got=k)
    if min_ratings < 0:
        raise ConfigError("must be at least 0", key="--min-ratings", got=min_ratings)
    config, data, predict = load_run(run)
    raw = _raw_id(user, data.users.ids)
    code = int(data.users.transform(np.array([raw]))[0])  # -1: no training ratings
    items = np.arange(data.n_items, dtype=np.int32)
    rated = np.zeros(data.n_items, dtype=bool)
    if code >= 0:
        rated[data.train.item[data.train.user == code]] = True
    popularity = np.bincount(data.train.item, minlength=data.n_items)
    candidates = items[(include_rated | ~rated) & (popularity >= min_ratings)]
    part = Part(
        user=np.full(len(candidates), code, dtype=np.int32),
        item=candidates,
        rating=np.zeros(len(candidates), dtype=np.float32),
        rows=np.arange(len(candidates)),
    )
    fallback = fit_biases(
        data.train.user, data.train.item, data.train.rating, data.n_users, data.n_items
    )
    # ranked on the unclipped scores (clipping would tie every item above the top rating),
    # shown clipped as evaluation scores them
    raw_scores = predict_part(predict, data, part, fallback, clip=False)
    scores = data.scale.clip(raw_scores) if config.training.clip_predictions else raw_scores
    order = np.argsort(-raw_scores, kind="stable")[:k]
    table = pd.DataFrame(
        {
            "rank": np.arange(1, len(order) + 1),
            "item": data.items.inverse(candidates[order]),
            "predicted": scores[order],
            "ratings": popularity[candidates[order]],
        }
    )
    features = data.ratings.item_features
    if features is not None and "title" in features.columns:
        table["title"] = features["title"].reindex(table["item"]).to_numpy()
    if include_rated:
        table["rated"] = rated[candidates[order]]
    return Recommendations(raw, code >= 0, int(rated.sum()), table)
