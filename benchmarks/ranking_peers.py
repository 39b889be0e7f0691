"""The top-N peers of ``benchmarks/ranking.py``: ``implicit``'s ALS and BPR (Cython, the
same 2 threads), fitted on the training part, tuned on the validation part's NDCG@10,
scored through recexp's own ranking evaluator, so every row shares one protocol.

``implicit`` is installed by ``make bench-ranking`` (the ``ranking-bench`` extra).
"""

from __future__ import annotations

import itertools
import os
import time
from typing import Any

import numpy as np

THREADS = int(os.environ.get("RANKING_THREADS", "2"))

#: the grids searched on validation (ALS: Hu et al. 2008 confidence 1 + alpha * r)
GRIDS: dict[str, dict[str, list[Any]]] = {
    "implicit_als": {
        "factors": [16, 32, 64, 128],
        "regularization": [0.01, 0.1, 1.0],
        "alpha": [0.5, 1.0, 2.0, 5.0, 20.0],
        "iterations": [15],
    },
    "implicit_bpr": {
        "factors": [32, 64, 128],
        "learning_rate": [0.01, 0.05],
        "regularization": [0.001, 0.01],
        "iterations": [100, 300],
    },
}


def interactions(data: Any) -> Any:
    """The training part as a users x items CSR matrix of ones (scipy)."""
    from scipy.sparse import csr_matrix

    t = data.train
    ones = np.ones(len(t.user), np.float32)
    matrix = csr_matrix((ones, (t.user, t.item)), shape=(data.n_users, data.n_items))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def fit(kind: str, params: dict[str, Any], matrix: Any, seed: int) -> tuple[Any, float]:
    """A fitted ``implicit`` model and its fit seconds."""
    from implicit.bpr import BayesianPersonalizedRanking
    from implicit.cpu.als import AlternatingLeastSquares

    p = dict(params)
    if kind == "implicit_als":
        alpha = p.pop("alpha")
        model = AlternatingLeastSquares(**p, alpha=alpha, num_threads=THREADS, random_state=seed)
    else:
        model = BayesianPersonalizedRanking(**p, num_threads=THREADS, random_state=seed)
    start = time.perf_counter()
    model.fit(matrix, show_progress=False)
    return model, time.perf_counter() - start


def factor_scorer(model: Any) -> Any:
    users = np.asarray(model.user_factors, np.float32)
    items_t = np.ascontiguousarray(np.asarray(model.item_factors, np.float32).T)
    return lambda codes: users[codes] @ items_t


def tune(kind: str, data: Any, val: Any, test: Any, seed: int) -> dict[str, Any]:
    """Every grid point fitted and scored on val; the best (NDCG@10) scored on test."""
    from recexp.evaluation.ranking import evaluate_ranking

    matrix = interactions(data)
    grid = GRIDS[kind]
    best: dict[str, Any] | None = None
    for values in itertools.product(*grid.values()):
        params = dict(zip(grid, values, strict=True))
        model, seconds = fit(kind, params, matrix, seed)
        score = evaluate_ranking(factor_scorer(model), val).metrics["ndcg@10"]
        if best is None or score > best["val_ndcg@10"]:
            best = {"params": params, "val_ndcg@10": score, "model": model, "fit_s": seconds}
    assert best is not None
    result = evaluate_ranking(factor_scorer(best.pop("model")), test)
    return {
        "name": kind,
        "grid_points": int(np.prod([len(v) for v in grid.values()])),
        **best,
        "test": result.metrics,
        "eval_users_per_second": result.users_per_second,
    }
