"""Quick check: fit seconds of the top-N baselines (popularity, item_knn, ease) on synthetic
data of a given shape (default MovieLens 100K's: 943 users x 1,682 items x 100k ratings).

    python -m benchmarks.topn_fit                                  # ML-100K's shape
    python -m benchmarks.topn_fit --users 6040 --items 3706 --ratings 1000209   # ML-1M's

Each family is fitted ``--repeats`` times on the same training part (the spec's default
random split) and the median fit is printed, with the seconds to score every user against
every item once (batches of 1,024 users). Not a timed test: the numbers depend on the
machine and its load (BLAS threads included); nothing is written.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from recexp.config import validate
from recexp.data.pipeline import prepare
from recexp.models import MODELS
from recexp.models.build import build_context
from recexp.training import TrainData

FAMILIES = ("popularity", "item_knn", "ease")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=943)
    parser.add_argument("--items", type=int, default=1682)
    parser.add_argument("--ratings", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    shape = {"n_users": args.users, "n_items": args.items, "n_ratings": args.ratings}
    config = validate(
        {
            "name": "topn-fit",
            "dataset": {"name": "synthetic", **shape},
            "model": {"family": "popularity"},
        }
    )
    data = prepare(config.dataset, config.seed)
    t, empty = data.train, slice(0, 0)
    train = TrainData(
        t.user, t.item, t.rating, t.user[empty], t.item[empty], t.rating[empty],
        data.n_users, data.n_items, config.training, config.optimizer,
    )  # fmt: skip
    print(f"{data.n_users:,} users x {data.n_items:,} items, {len(train):,} training ratings")
    for family in FAMILIES:
        model = MODELS.get(family).fn(
            MODELS.get(family).options(family=family), build_context(config, data)
        )
        seconds = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            model.fit(train, [])
            seconds.append(time.perf_counter() - start)
        start = time.perf_counter()
        for first in range(0, data.n_users, 1024):
            model.score_items(np.arange(first, min(first + 1024, data.n_users)))
        scoring = time.perf_counter() - start
        runs = ", ".join(f"{s:.3f}" for s in seconds)
        print(f"{family:>10}: fit {statistics.median(seconds):.3f} s (runs {runs}); "
              f"score all users {scoring:.3f} s")  # fmt: skip


if __name__ == "__main__":
    main()
