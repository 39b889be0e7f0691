"""``synthetic``: an embedded ratings generator with a known noiseless score.

Ratings come from a low-rank model with user and item biases::

    true(u, i) = center + spread * (b_u + b_i + p_u . q_i)
    rating     = clip(round_to_step(true + noise))

Users and items are drawn with Zipf-like popularity, so activity is long-tailed
as in MovieLens. Everything is drawn from ``numpy.random.default_rng(seed)``, so the
same options always give the same table. ``true_score`` travels with every
rating and gives the *oracle RMSE* (true score vs observed rating): the error of
a predictor that knows the generating model, a floor no learned model beats by
more than chance.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import Field, NonNegativeFloat, PositiveInt, model_validator

from recexp.data.base import DATASETS, DatasetOptions
from recexp.data.ratings import Ratings, RatingScale
from recexp.schema import Seed

#: Ids are int32 codes: at most 2**31 - 1 users, items or ratings.
IdCount = Annotated[int, Field(gt=0, le=2**31 - 1)]


class SyntheticOptions(DatasetOptions):
    """Shape, noise and rating scale of the generated dataset (default: MovieLens 100K's shape)."""

    name: Literal["synthetic"] = "synthetic"
    n_users: IdCount = 943
    n_items: IdCount = 1682
    n_ratings: IdCount = 100_000
    rank: PositiveInt = Field(4, description="latent rank of the true score")
    signal: NonNegativeFloat = Field(
        1.0, description="scale of the true score's spread around the center (1 = MovieLens-like)"
    )
    noise: NonNegativeFloat = Field(
        0.8, description="std of the noise, in rating units (0.8: best RMSE near ML-100K's ~0.9)"
    )
    rating_min: float = 1.0
    rating_max: float = 5.0
    rating_step: NonNegativeFloat = Field(1.0, description="0 means continuous ratings")
    user_exponent: NonNegativeFloat = Field(0.6, description="Zipf-like exponent of user activity")
    item_exponent: NonNegativeFloat = Field(
        0.9, description="Zipf-like exponent of item popularity"
    )
    seed: Seed = Field(0, description="the data's own seed, apart from the experiment's")

    @model_validator(mode="after")
    def _check(self) -> SyntheticOptions:
        if self.rating_max <= self.rating_min:
            raise ValueError(
                f"rating_max must exceed rating_min (got {self.rating_min}..{self.rating_max})"
            )
        if self.n_ratings > 0.9 * self.n_users * self.n_items:
            raise ValueError(
                "n_ratings must be at most 90% of n_users * n_items "
                f"(got {self.n_ratings} for {self.n_users} x {self.n_items})"
            )
        return self


def _popularity(rng: np.random.Generator, n: int, exponent: float) -> np.ndarray:
    weights = np.arange(1, n + 1, dtype=np.float64) ** -exponent
    weights = weights[rng.permutation(n)]
    return weights / weights.sum()


def _sample_pairs(
    rng: np.random.Generator, options: SyntheticOptions
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (user, item) pairs drawn by popularity, in a random order."""
    pu = _popularity(rng, options.n_users, options.user_exponent)
    pi = _popularity(rng, options.n_items, options.item_exponent)
    n_pairs = options.n_users * options.n_items
    if n_pairs <= 50_000_000:  # weighted sampling without replacement (Efraimidis-Spirakis)
        weight = np.outer(pu, pi).ravel()
        key = rng.exponential(size=n_pairs) / weight
        keys = np.argpartition(key, options.n_ratings - 1)[: options.n_ratings]
        keys = keys[np.argsort(key[keys])].astype(np.int64)
        return (keys // options.n_items).astype(np.int32), (keys % options.n_items).astype(np.int32)
    keys = np.empty(0, dtype=np.int64)
    need = options.n_ratings
    for _ in range(50):
        draw = int((need - keys.size) * 1.3) + 1024
        users = rng.choice(options.n_users, size=draw, p=pu)
        items = rng.choice(options.n_items, size=draw, p=pi)
        new = users.astype(np.int64) * options.n_items + items
        keys = np.concatenate([keys, new])
        _, first = np.unique(keys, return_index=True)
        keys = keys[np.sort(first)]  # distinct, in order of first draw
        if keys.size >= need:
            break
    else:  # popularity too concentrated to find enough distinct pairs: fill uniformly
        rest = rng.permutation(options.n_users * options.n_items)
        keys = np.concatenate([keys, np.setdiff1d(rest, keys, assume_unique=True)])
    keys = keys[:need]
    return (keys // options.n_items).astype(np.int32), (keys % options.n_items).astype(np.int32)


@DATASETS.register("synthetic", options=SyntheticOptions, help="embedded generator, no files")
def load_synthetic(options: SyntheticOptions) -> Ratings:
    """Generate the ratings table described by ``options``."""
    rng = np.random.default_rng(options.seed)
    users, items = _sample_pairs(rng, options)
    k = options.rank
    # factors scaled so that p.q has unit variance, like each bias term
    p = rng.normal(0.0, k**-0.25, size=(options.n_users, k)).astype(np.float32)
    q = rng.normal(0.0, k**-0.25, size=(options.n_items, k)).astype(np.float32)
    bu = rng.normal(0.0, 1.0, size=options.n_users).astype(np.float32)
    bi = rng.normal(0.0, 1.0, size=options.n_items).astype(np.float32)

    half = (options.rating_max - options.rating_min) / 2
    center = options.rating_min + half * 1.25  # ratings lean positive, as in MovieLens
    spread = half * options.signal
    dot = np.einsum("nk,nk->n", p[users], q[items])
    true = center + spread * (0.2 * bu[users] + 0.25 * bi[items] + 0.3 * dot)
    true = np.clip(true, options.rating_min, options.rating_max).astype(np.float32)

    observed = true + rng.normal(0.0, options.noise, size=true.size).astype(np.float32)
    if options.rating_step > 0:
        step = options.rating_step
        observed = options.rating_min + np.round((observed - options.rating_min) / step) * step
    observed = np.clip(observed, options.rating_min, options.rating_max).astype(np.float32)

    frame = pd.DataFrame({"user": users, "item": items, "rating": observed, "true_score": true})
    scale = RatingScale(options.rating_min, options.rating_max, options.rating_step or None)
    oracle = float(np.sqrt(np.mean((true - observed) ** 2)))
    return Ratings(frame, scale, info={"oracle_rmse_all": oracle})
