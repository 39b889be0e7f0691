"""``recexp recommend RUN --all-users -o recs.parquet``: every trained user's top-N list,
scored in batches through the evaluator's scorer, written as one parquet table."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recexp.errors import ConfigError
from recexp.recommend import Lists, load_run


@dataclass
class BatchResult:
    path: Path
    users: int  # users with a list (every user with training ratings)
    rows: int
    seconds: float
    notes: list[str]


def recommend_all(
    run: str | Path,
    output: str | Path,
    k: int = 10,
    include_rated: bool = False,
    min_ratings: int = 0,
) -> BatchResult:
    """One row per (user, rank): user, rank, item, predicted rating (or score), item's
    training ratings. Written atomically: a failed run of this leaves no file."""
    if k < 1:
        raise ConfigError("must be at least 1", key="--top", got=k)
    output = Path(output)
    if output.suffix != ".parquet":
        raise ConfigError(
            "the output is a parquet file: name it *.parquet", key="-o", got=str(output)
        )
    if not output.parent.is_dir():
        raise ConfigError("no such folder", key="-o", got=str(output.parent))
    notes: list[str] = []
    config, data, model = load_run(run, notes)
    start = time.perf_counter()  # the lists, not loading TensorFlow and the data
    lists = Lists(config, data, model, min_ratings, include_rated)
    users = np.flatnonzero(np.bincount(data.train.user, minlength=data.n_users) > 0)
    items, _ = lists.top(users.astype(np.int32), k, known=True)
    rank = np.tile(np.arange(1, items.shape[1] + 1), len(users))
    flat_users = np.repeat(users, items.shape[1])
    keep = items.reshape(-1) >= 0
    table = lists.table(flat_users[keep], items.reshape(-1)[keep], known=True)
    table.insert(1, "rank", rank[keep])
    tmp = output.with_name(f".{output.name}.tmp")
    table.to_parquet(tmp, index=False)
    os.replace(tmp, output)
    return BatchResult(output, len(users), len(table), time.perf_counter() - start, notes)
