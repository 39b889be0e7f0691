"""Top-N benchmark on MovieLens 100K: every shipped rating spec of recexp, recexp's top-N
families and ``implicit``'s ALS and BPR, on one split and one protocol, in one run.

    python -m benchmarks.ranking [--only NAME,NAME] [--runs-dir DIR]    (make bench-ranking)

Split: seeded random (seed 42), 10% test, 5% of all ratings from the rest for validation
(the shipped specs' split). Protocol: recexp's default full ranking: every item seen in
training that the user did not rate in train (for test: nor in validation) is a
candidate, the user's held-out items are relevant, k = 10 and 20. recexp's rows are
trained through ``run_experiment`` and read back from metrics.json; the top-N families
and the peers are tuned on the validation part's NDCG@10 (grids below), test untouched.
Writes ``benchmarks/results/ranking.json`` and ``ranking.md``; ``--only`` reruns rows
and keeps the rest. Needs ``../shared/data/ml-100k``; without it says so and exits 0.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "configs" / "movielens-100k"
RESULTS = ROOT / "benchmarks" / "results"
SHARED_DATA = ROOT.parent / "shared" / "data"
SPLIT = {"strategy": "random", "test": 0.1, "val": 0.05}
SEED = 42

#: the shipped rating specs scored for top-N (u1 specs moved onto the random split)
RATING_SPECS = ["biases", "mf", "neumf", "mlp", "two_tower", "svdpp_u1", "autorec_u1",
                "ensemble_u1"]  # fmt: skip
#: the shipped specs trained for the top-N (implicit objectives, chosen on val NDCG@10)
TOPN_SPECS = ["mf_topn", "gmf_topn", "neumf_topn", "mlp_topn"]
#: recexp's top-N families and the grids searched on validation
TOPN_GRIDS: dict[str, dict[str, list[Any]]] = {
    "popularity": {},
    "item_knn": {"neighbors": [20, 50, 100, 200], "shrinkage": [0.0, 10.0, 50.0]},
    "ease": {"l2": [50.0, 100.0, 200.0, 300.0, 500.0, 800.0, 1200.0]},
}
PEERS = ["implicit_als", "implicit_bpr"]


def base_spec(family: str, **options: Any) -> dict[str, Any]:
    return {
        "name": f"ml100k-{family}",
        "seed": SEED,
        "dataset": {"name": "movielens-100k", "split": SPLIT},
        "model": {"family": family, **options},
    }


def row_from_run(run: Any, name: str, source: str, wall: float) -> dict[str, Any]:
    m = json.loads((run.path / "metrics.json").read_text())
    return {
        "name": name,
        "source": source,
        "family": m.get("model"),
        "val": m["val"].get("ranking") or {},
        "test": m["test"].get("ranking") or {},
        "test_rmse": m["test"].get("rmse"),
        "fit_s": m.get("train_seconds"),
        "wall_s": round(wall, 2),
        "eval_users_per_second": (m.get("ranking") or {}).get("users_per_second"),
        "test_users": (m.get("ranking") or {}).get("users"),
        "popularity_baseline": m["baselines"].get("popularity_test_ranking"),
    }


def train(spec: dict[str, Any], runs: Path) -> tuple[Any, float]:
    from recexp.config import validate
    from recexp.experiment import run_experiment

    start = time.perf_counter()
    run = run_experiment(validate(spec), runs_root=runs, quiet=True)
    return run, time.perf_counter() - start


def rating_rows(names: list[str], runs: Path) -> list[dict[str, Any]]:
    from recexp.spec_yaml import parse_yaml

    rows = []
    for stem in names:
        path = SPECS / f"{stem}.yaml"
        spec = parse_yaml(path.read_text(), str(path))
        spec["dataset"]["split"] = SPLIT
        spec["seed"] = SEED
        run, wall = train(spec, runs)
        rows.append(row_from_run(run, stem, f"configs/movielens-100k/{stem}.yaml", wall))
        print(f"  {stem}: test ndcg@10 {rows[-1]['test'].get('ndcg@10', float('nan')):.4f}")
    return rows


def topn_rows(names: list[str], runs: Path) -> list[dict[str, Any]]:
    rows = []
    for family in names:
        grid = TOPN_GRIDS[family]
        best: dict[str, Any] | None = None
        for values in itertools.product(*grid.values()) if grid else [()]:
            params = dict(zip(grid, values, strict=True))
            run, wall = train(base_spec(family, **params), runs)
            row = row_from_run(run, family, f"model: {family} (tuned on val)", wall)
            row["params"] = params
            if best is None or row["val"]["ndcg@10"] > best["val"]["ndcg@10"]:
                best = row
        assert best is not None
        best["grid_points"] = max(1, len(list(itertools.product(*grid.values()))))
        rows.append(best)
        print(f"  {family} {best['params']}: test ndcg@10 {best['test']['ndcg@10']:.4f}")
    return rows


def peer_rows(names: list[str]) -> list[dict[str, Any]]:
    from benchmarks.ranking_peers import tune
    from recexp.config import validate
    from recexp.data import prepare
    from recexp.evaluation.ranking_data import ranking_protocol

    config = validate(base_spec("biases"))
    data = prepare(config.dataset, config.seed)
    options = config.evaluation.ranking
    assert options is not None
    val = ranking_protocol(data, "val", options, config.seed)
    test = ranking_protocol(data, "test", options, config.seed)
    rows = []
    for kind in names:
        start = time.perf_counter()
        result = tune(kind, data, val, test, config.seed)
        rows.append(
            {
                **result,
                "source": "implicit 0.7 (tuned on val)",
                "val": {"ndcg@10": result.pop("val_ndcg@10")},
                "wall_s": round(time.perf_counter() - start, 1),
                "test_users": len(test.users),
            }
        )
        print(f"  {kind} {result['params']}: test ndcg@10 {result['test']['ndcg@10']:.4f}")
    return rows


def machine() -> dict[str, Any]:
    import numpy as np

    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }


def merge(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The previous rows with those rerun replaced (``--only``), in the benchmark's order."""
    order = [*RATING_SPECS, *TOPN_SPECS, *TOPN_GRIDS, *PEERS]
    by_name = {r["name"]: r for r in old} | {r["name"]: r for r in new}
    return [by_name[n] for n in order if n in by_name]


def main(argv: list[str] | None = None) -> int:
    from benchmarks.ranking_report import markdown

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated row names to (re)run")
    parser.add_argument("--runs-dir", help="keep the run directories here")
    args = parser.parse_args(argv)
    if not (SHARED_DATA / "ml-100k" / "u.data").is_file():
        print(f"no MovieLens 100K in {SHARED_DATA}: nothing to measure")
        return 0
    os.environ["RECEXP_DATA_DIR"] = str(SHARED_DATA)
    only = set(args.only.split(",")) if args.only else None

    def chosen(names: list[str]) -> list[str]:
        return [n for n in names if only is None or n in only]

    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(args.runs_dir or tmp)
        rows = rating_rows(chosen(RATING_SPECS + TOPN_SPECS), runs)
        rows += topn_rows(chosen(list(TOPN_GRIDS)), runs)
        rows += peer_rows(chosen(PEERS))
    finished = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    for row in rows:
        row["finished_utc"] = finished
    path = RESULTS / "ranking.json"
    old = json.loads(path.read_text())["rows"] if only and path.is_file() else []
    report = {
        "command": "python -m benchmarks.ranking" + (f" --only {args.only}" if only else ""),
        "finished_utc": finished,
        "wall_seconds": round(time.perf_counter() - start, 1),
        "split": SPLIT,
        "seed": SEED,
        "machine": machine(),
        "rows": merge(old, rows),
    }
    write_results("ranking", report, markdown(report))
    return 0


def write_results(stem: str, report: dict[str, Any], text: str) -> None:
    """``results/<stem>.json`` and ``<stem>.md``, each written whole (through a temp file)."""
    for name, body in ((f"{stem}.json", json.dumps(report, indent=2)), (f"{stem}.md", text)):
        tmp_path = RESULTS / f"{name}.tmp"
        tmp_path.write_text(body + "\n")
        os.replace(tmp_path, RESULTS / name)
    print(f"wrote {RESULTS / f'{stem}.md'}")


if __name__ == "__main__":
    sys.exit(main())
