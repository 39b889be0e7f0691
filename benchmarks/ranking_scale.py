"""Full-ranking evaluation at scale: MovieLens 25M's shape (162,541 users x 59,047 items,
25M synthetic ratings), mf dim 32, against scoring the same factors with plain numpy in
the same process; and the wall time of a whole evaluation at MovieLens 1M's shape.

    python -m benchmarks.ranking_scale [--users N]        (make bench-ranking runs it)

The mf model is built but not trained (throughput does not depend on the weights). At
the 25M shape a seeded sample of ``--users`` test users (default 20,000) is evaluated
by recexp (:func:`recexp.evaluation.ranking.evaluate_ranking`: masks, top-k, every
metric, coverage) and by the reference (``U[u] @ V.T + b``, train items set to -inf,
``np.argpartition`` top 20: scoring and selection only). Peak RSS is sampled every 10 ms
during each phase. Writes ``benchmarks/results/ranking_scale.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
SHAPES = {
    "ml-25m": {"n_users": 162541, "n_items": 59047, "n_ratings": 25000095},
    "ml-1m": {"n_users": 6040, "n_items": 3706, "n_ratings": 1000209},
}


class PeakRss:
    """The highest RSS (MiB) seen while the block runs, sampled every 10 ms."""

    def __enter__(self) -> PeakRss:
        import psutil

        self.process = psutil.Process()
        self.before = self.peak = self.process.memory_info().rss / 2**20
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss / 2**20)
            time.sleep(0.01)

    def __exit__(self, *exc: Any) -> None:
        self.running = False
        self.thread.join()


def spec(shape: str, users: int | str) -> dict[str, Any]:
    return {
        "name": f"ranking-scale-{shape}",
        "seed": 42,
        "dataset": {"name": "synthetic", **SHAPES[shape], "rating_min": 0.5, "rating_max": 5,
                    "rating_step": 0.5, "split": {"strategy": "random", "val": 0.01,
                                                  "test": 0.01}},
        "model": {"family": "mf", "dim": 32},
        "evaluation": {"ranking": {"k": [10, 20], "users": users}},
    }  # fmt: skip


def numpy_reference(model: Any, protocol: Any, k: int) -> dict[str, Any]:
    """Score the same factors with numpy: one matmul a batch, train items masked, top-k."""
    m = model.model
    items = np.arange(protocol.n_items, dtype=np.int32)[:, None]
    U = np.asarray(m.get_layer("user_embedding").embeddings)  # noqa: N806
    V = np.asarray(m.get_layer("item_embedding")(items)).reshape(len(items), -1)  # noqa: N806
    b = np.asarray(m.get_layer("item_bias")(items)).reshape(-1)
    step = protocol.batch_size()
    start = time.perf_counter()
    for begin in range(0, len(protocol.users), step):
        users = protocol.users[begin : begin + step]
        scores = U[users] @ V.T + b
        scores[protocol.excluded.dense(users)] = -np.inf
        np.argpartition(-scores, k - 1, axis=1)[:, :k]
    seconds = time.perf_counter() - start
    return {"seconds": round(seconds, 3), "users_per_second": len(protocol.users) / seconds}


def at_25m(users: int) -> dict[str, Any]:
    from recexp.config import validate
    from recexp.data import prepare
    from recexp.evaluation.ranking import evaluate_ranking
    from recexp.evaluation.ranking_data import ranking_protocol
    from recexp.models.build import build_recommender

    config = validate(spec("ml-25m", users))
    start = time.perf_counter()
    data = prepare(config.dataset, config.seed)
    prep = time.perf_counter() - start
    model = build_recommender(config, data)
    assert config.evaluation.ranking is not None
    protocol = ranking_protocol(data, "test", config.evaluation.ranking, config.seed)
    with PeakRss() as ours:
        result = evaluate_ranking(model.scorer(), protocol)
    with PeakRss() as ref:
        reference = numpy_reference(model, protocol, 20)
    return {
        "shape": SHAPES["ml-25m"],
        "data_seconds": round(prep, 1),
        "users": len(protocol.users),
        "batch_users": protocol.batch_size(),
        "recexp": {
            "seconds": round(result.seconds, 3),
            "users_per_second": result.users_per_second,
            "rss_before_mb": round(ours.before),
            "peak_rss_mb": round(ours.peak),
        },
        "numpy": {**reference, "rss_before_mb": round(ref.before), "peak_rss_mb": round(ref.peak)},
        "ratio": result.users_per_second / reference["users_per_second"],
    }


def at_1m() -> dict[str, Any]:
    """A whole evaluation (val + test, rating metrics, top-N, most-popular) at ML-1M's shape."""
    from recexp.config import validate
    from recexp.data import prepare
    from recexp.evaluation.evaluator import evaluate
    from recexp.models.build import build_recommender

    config = validate(spec("ml-1m", "all"))
    data = prepare(config.dataset, config.seed)
    model = build_recommender(config, data)
    start = time.perf_counter()
    evaluation = evaluate(model, config, data)
    facts = evaluation.metrics.ranking
    assert facts is not None
    return {
        "shape": SHAPES["ml-1m"],
        "evaluate_seconds": round(time.perf_counter() - start, 2),
        "ranking_seconds": facts.seconds,
        "test_users": facts.users,
        "val_users": facts.val_users,
    }


def markdown(report: dict[str, Any]) -> str:
    big, small = report["ml-25m"], report["ml-1m"]
    ours, ref = big["recexp"], big["numpy"]
    return "\n".join(
        [
            "# Full-ranking evaluation at scale",
            "",
            f"`python -m benchmarks.ranking_scale` on {os.cpu_count()} CPU cores, "
            f"{report['finished_utc']}.",
            "",
            f"MovieLens 25M's shape (162,541 x 59,047, 25M synthetic ratings), mf dim 32: "
            f"{big['users']:,} sampled test users, {big['batch_users']} users a batch.",
            "",
            "| scorer | seconds | users/s | RSS before MiB | peak RSS MiB |",
            "|---|---:|---:|---:|---:|",
            f"| recexp (masks, top-20, every metric, coverage) | {ours['seconds']:.1f} "
            f"| {ours['users_per_second']:,.0f} | {ours['rss_before_mb']:,} "
            f"| {ours['peak_rss_mb']:,} |",
            f"| numpy (matmul, mask, argpartition only) | {ref['seconds']:.1f} "
            f"| {ref['users_per_second']:,.0f} | {ref['rss_before_mb']:,} "
            f"| {ref['peak_rss_mb']:,} |",
            "",
            f"recexp / numpy users per second: **{big['ratio']:.2f}x** (same process, same "
            "factors, same users). Every test user at that rate: "
            f"{162541 / ours['users_per_second'] / 60:.1f} min.",
            "",
            f"MovieLens 1M's shape (6,040 x 3,706, 1M ratings): a whole evaluation (val and "
            f"test RMSE, val and test top-N for {small['val_users']:,} + "
            f"{small['test_users']:,} users, the most-popular baseline) takes "
            f"**{small['evaluate_seconds']:.2f} s** ({small['ranking_seconds']:.2f} s of it "
            "top-N).",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    args = parser.parse_args()
    report = {"ml-1m": at_1m(), "ml-25m": at_25m(args.users)}
    report["finished_utc"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    (RESULTS / "ranking_scale.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "ranking_scale.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
