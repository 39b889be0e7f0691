"""Implicit-trained families (``training.objective``: bce / bpr / sampled_softmax) on
MovieLens 100K, under full ranking and the NCF protocol, and what negative sampling costs.

    python -m benchmarks.ranking_implicit [--only full,ncf,speed] [--runs-dir DIR]

* ``full``: the shipped ``configs/movielens-100k/*_topn.yaml`` (seeded random split, 10%
  test, 5% validation: ``benchmarks/ranking.py``'s split and protocol, full ranking over
  unrated items), each tuned on validation NDCG@10 only (the grids are in the specs'
  comments); the most-popular list is every run's baseline.
* ``ncf``: ``configs/ncf/ml100k_*.yaml``: leave-one-out by time, the held-out item ranked
  among 99 sampled unrated items (He et al. 2017's protocol), HR@10 and NDCG@10.
* ``speed``: synthetic data of MovieLens 1M's shape (6,040 users, 3,706 items, 1M ratings),
  mf dim 32, lazy Adam, bounded epochs: (user, item) rows scored per second by the rating
  objective and by each implicit one at the same rows per step (a bce step of 256 positives
  with 4 negatives scores 1,280 rows, as a rating step of batch 1,280).

Writes ``benchmarks/results/ranking_implicit.json`` and ``.md``; ``--only`` reruns sections
and keeps the others. Needs ``../shared/data/ml-100k`` for full/ncf (skipped without it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks.ranking import (
    RESULTS,
    ROOT,
    SHARED_DATA,
    machine,
    row_from_run,
    train,
    write_results,
)

TOPN = ["mf", "gmf", "mlp", "neumf"]
NCF = ["mf", "gmf", "mlp", "neumf"]
SHAPE = {"name": "synthetic", "n_users": 6040, "n_items": 3706, "n_ratings": 1_000_209}
POSITIVES = 256  # positives per step in the speed section
#: (label, objective block or None for rating, rows per positive)
SPEED = [
    ("rating, batch 1,280", None, 5),
    ("rating, batch 512", None, 2),
    ("bce, 4 negatives", {"name": "bce", "negatives": 4}, 5),
    ("bce, 4 negatives, positives not redrawn", {"name": "bce", "exclude_positives": False}, 5),
    ("bce, 4 popularity^0.75 negatives", {"name": "bce", "sampler": "popularity"}, 5),
    ("bpr, 1 negative", {"name": "bpr", "negatives": 1}, 2),
    ("bpr, 4 negatives", {"name": "bpr", "negatives": 4}, 5),
    ("sampled_softmax, 4 in-batch", {"name": "sampled_softmax", "sampler": "in_batch"}, 5),
]


def spec_rows(paths: list[Path], runs: Path) -> list[dict[str, Any]]:
    from recexp.spec_yaml import parse_yaml

    rows = []
    for path in paths:
        run, wall = train(parse_yaml(path.read_text(), str(path)), runs)
        row = row_from_run(run, path.stem, str(path.relative_to(ROOT)), wall)
        metrics = json.loads((run.path / "metrics.json").read_text())
        row["epochs"], row["best_epoch"] = metrics.get("epochs_run"), metrics.get("best_epoch")
        rows.append(row)
        t = row["test"]
        print(f"  {path.stem}: test ndcg@10 {t['ndcg@10']:.4f} hr@10 {t['hr@10']:.4f}")
    return rows


def speed_spec(objective: dict[str, Any] | None, rows_per_positive: int) -> dict[str, Any]:
    training: dict[str, Any] = {
        "batch_size": POSITIVES * (rows_per_positive if objective is None else 1),
        "max_epochs": 4,
        "steps_per_epoch": 300,
        "early_stopping": None,
        "threads": {"intra_op": 1},
    }
    if objective is not None:
        training["objective"] = objective
    return {
        "name": "speed-implicit",
        "seed": 42,
        "dataset": {**SHAPE, "split": {"strategy": "random", "test": 0.1, "val": 0.0}},
        "model": {"family": "mf", "dim": 32},
        "optimizer": {"name": "lazy_adam", "learning_rate": 0.001},
        "training": training,
        "evaluation": {"ranking": None},
    }


def speed_rows(runs: Path) -> list[dict[str, Any]]:
    rows = []
    for label, objective, per in SPEED:
        blocks = per if objective is not None else 1  # a rating row is one positive
        run, _ = train(speed_spec(objective, per), runs)
        metrics = json.loads((run.path / "metrics.json").read_text())
        positives = metrics["ratings_per_second"]  # training rows of the data per second
        rows.append({"objective": label, "rows_per_step": POSITIVES * per,
                     "positives_per_second": round(positives),
                     "rows_per_second": round(positives * blocks)})  # fmt: skip
        print(f"  {label}: {rows[-1]['rows_per_second']:,} rows/s")
    rating = [r for r in rows if r["objective"].startswith("rating")]
    base = {r["rows_per_step"]: r["rows_per_second"] for r in rating}
    for row in rows:  # against the rating objective at the same rows per step
        row["vs_rating"] = round(row["rows_per_second"] / base[row["rows_per_step"]], 3)
    return rows


def _f(value: Any) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Implicit-trained families on MovieLens 100K",
        "",
        f"`{report['command']}`, finished {report['finished_utc']}, "
        f"{report['machine']['cpus']} CPUs ({report['machine']['platform']}).",
        "",
    ]
    head = "| spec | val NDCG@10 | test NDCG@10 | test Recall@20 | test HR@10 | MRR | "
    head += "most popular NDCG@10 | epochs (best) | fit s |"
    for section, title in (
        ("full", "Seeded random 90/10, full ranking over unrated items"),
        ("ncf", "NCF protocol: leave-one-out by time, 99 sampled negatives"),
    ):
        lines += [f"## {title}", "", head, "|" + "---|" * 9]
        for r in report.get(section, []):
            v, t, p = r["val"], r["test"], r["popularity_baseline"] or {}
            lines.append(
                f"| {r['source']} | {_f(v.get('ndcg@10'))} | {_f(t.get('ndcg@10'))} | "
                f"{_f(t.get('recall@20'))} | {_f(t.get('hr@10'))} | {_f(t.get('mrr'))} | "
                f"{_f(p.get('ndcg@10'))} | {r['epochs']} ({r['best_epoch']}) | {r['fit_s']} |"
            )
        lines.append("")
    lines += ["## Speed: rows scored per second, ML-1M shape, mf dim 32, lazy Adam", ""]
    lines += ["| objective | rows/step | positives/s | rows/s | vs rating |"]
    lines += ["|---|---:|---:|---:|---:|"]
    for r in report.get("speed", []):
        lines.append(
            f"| {r['objective']} | {r['rows_per_step']:,} | {r['positives_per_second']:,} | "
            f"{r['rows_per_second']:,} | {r['vs_rating']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated sections: full, ncf, speed")
    parser.add_argument("--runs-dir", help="keep the run directories here")
    args = parser.parse_args(argv)
    sections = set(args.only.split(",")) if args.only else {"full", "ncf", "speed"}
    has_data = (SHARED_DATA / "ml-100k" / "u.data").is_file()
    if not has_data:
        print(f"no MovieLens 100K in {SHARED_DATA}: full and ncf skipped")
        sections -= {"full", "ncf"}
    os.environ["RECEXP_DATA_DIR"] = str(SHARED_DATA)
    path = RESULTS / "ranking_implicit.json"
    report = json.loads(path.read_text()) if path.is_file() else {}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(args.runs_dir or tmp)
        specs = ROOT / "configs"
        if "full" in sections:
            paths = [specs / "movielens-100k" / f"{f}_topn.yaml" for f in TOPN]
            report["full"] = spec_rows(paths, runs)
        if "ncf" in sections:
            report["ncf"] = spec_rows([specs / "ncf" / f"ml100k_{f}.yaml" for f in NCF], runs)
        if "speed" in sections:
            report["speed"] = speed_rows(runs)
    report["command"] = "python -m benchmarks.ranking_implicit" + (
        f" --only {args.only}" if args.only else ""
    )
    report["finished_utc"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    report["wall_seconds"] = round(time.perf_counter() - start, 1)
    report["machine"] = machine()
    write_results("ranking_implicit", report, markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
