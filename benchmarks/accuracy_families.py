"""The accuracy families (issue 13) on MovieLens 100K, beside mf and Surprise SVD++.

    python -m benchmarks.accuracy_families [--only autorec,svdpp,glocal_k,ensemble]
        [--split u1|random|folds] [--no-surprise] [--runs-dir DIR]

Each family's tuned spec (``configs/movielens-100k/<family>_u1.yaml``) is trained in this
process through :func:`recexp.experiment.run_experiment`, exactly as ``recexp train``
does (unseen ids get the biases fallback, metrics in rating units); every number is read
back from the run's ``metrics.json``. Splits:

- ``u1``: the specs as they are (u1.base / u1.test, validation = a seeded 5% of u1.base).
- ``random``: the same specs on mf.yaml's random split (test 0.1, val 0.05, seed 42);
  mf_u1.yaml there is mf.yaml (the same hyperparameters).
- ``folds``: the specs on the five official folds u1..u5 (mean and std).

Hyperparameters were chosen on the validation part of u1.base only (see the comments in
the specs). ``--split u1`` and ``random`` also fit Surprise's SVDpp (its defaults) on the
same train rows (train minus validation) as a peer. Results are merged into
``benchmarks/results/accuracy_families.json`` (by split) and the whole of
``accuracy_families.md`` is written from it. Needs ``../shared/data/ml-100k``
(``RECEXP_DATA_DIR``); says so and exits 0 without it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "configs" / "movielens-100k"
RESULTS = ROOT / "benchmarks" / "results"
SHARED_DATA = Path(os.environ.get("RECEXP_DATA_DIR", ROOT.parent / "shared" / "data"))
FAMILIES = ("mf", "autorec", "svdpp", "glocal_k", "ensemble")
RANDOM = "dataset.split={strategy: random, test: 0.1, val: 0.05}"
FOLDS = ("u1", "u2", "u3", "u4", "u5")


def train(spec: Path, overrides: list[str], runs_root: Path) -> dict[str, Any]:
    """One run in-process; its row, from metrics.json."""
    from recexp.config import load_spec
    from recexp.experiment import run_experiment

    config = load_spec(spec, overrides)
    start = time.perf_counter()
    run = run_experiment(config, runs_root=runs_root, quiet=True)
    wall = time.perf_counter() - start
    m = json.loads((run.path / "metrics.json").read_text())
    return {
        "spec": spec.name,
        "family": config.model.family,
        "overrides": overrides,
        "val_rmse": m["val"]["rmse"],
        "test_rmse": m["test"]["rmse"],
        "test_mae": m["test"]["mae"],
        "test_fallback": m["test"]["n_fallback"],
        "best_epoch": m["best_epoch"],
        "epochs_run": m["epochs_run"],
        "train_seconds": m["train_seconds"],
        "wall_seconds": round(wall, 1),
        "ratings_per_second": m["ratings_per_second"],
        "train_ratings": m["data"]["train"],
        "params": m["params"],
    }


def surprise_peer(overrides: list[str]) -> dict[str, Any]:
    """Surprise SVDpp (defaults: 20 factors, 20 epochs, lr 0.007, reg 0.02), same train rows."""
    import numpy as np
    import pandas as pd
    from surprise import Dataset as SDataset
    from surprise import Reader, SVDpp

    from recexp.config import load_spec
    from recexp.data import prepare

    config = load_spec(SPECS / "svdpp_u1.yaml", overrides)
    data = prepare(config.dataset, config.seed)
    frame = data.ratings.frame
    train = frame.iloc[data.train.rows]
    reader = Reader(rating_scale=(data.scale.min, data.scale.max))
    rows = pd.DataFrame({"u": train["user"], "i": train["item"], "r": train["rating"]})
    algo = SVDpp(random_state=config.seed)
    start = time.perf_counter()
    algo.fit(SDataset.load_from_df(rows, reader).build_full_trainset())
    seconds = time.perf_counter() - start
    out: dict[str, Any] = {"spec": "Surprise SVDpp (defaults)", "family": "surprise-svdpp"}
    for name, part in (("val", data.val), ("test", data.test)):
        sub = frame.iloc[part.rows]
        pairs = zip(sub["user"], sub["item"], strict=True)
        err = np.array([algo.predict(u, i).est for u, i in pairs]) - sub["rating"].to_numpy()
        out[f"{name}_rmse"] = float(np.sqrt(np.mean(err**2)))
        out[f"{name}_mae"] = float(np.mean(np.abs(err)))
    out.update(
        wall_seconds=round(seconds, 1),
        train_seconds=round(seconds, 1),
        ratings_per_second=len(train) * 20 / seconds,
    )
    return out


def run_split(split: str, families: list[str], runs_root: Path, surprise: bool) -> list[dict]:
    rows = []
    for family in families:
        spec = SPECS / f"{family}_u1.yaml"
        if split == "folds":
            folds = [train(spec, [f"dataset.split.fold={f}"], runs_root) for f in FOLDS]
            rows.append(fold_summary(folds))
        else:
            rows.append(train(spec, [RANDOM] if split == "random" else [], runs_root))
        print(table([rows[-1]], split), flush=True)
    if split != "folds" and surprise:
        try:
            rows.append(surprise_peer([RANDOM] if split == "random" else []))
        except ImportError as error:
            print(f"Surprise not installed ({error}): pip install 'recexp[accuracy]'")
    return rows


def throughput(row: dict[str, Any]) -> float:
    """Train ratings x epochs / train seconds: the same measure for every family (a
    GLocal-K epoch is one L-BFGS-B run; an ensemble's epochs are all its members')."""
    if "train_ratings" not in row:  # the Surprise peer: 20 epochs, computed when fitted
        return float(row["ratings_per_second"])
    epochs = row["epochs_run"] - (1 if row["family"] == "ensemble" else 0)  # the blend row
    return row["train_ratings"] * epochs / max(row["train_seconds"], 1e-9)


def fold_summary(folds: list[dict[str, Any]]) -> dict[str, Any]:
    """One row: mean and std of each number over the folds, and the folds themselves."""
    for fold in folds:
        fold["throughput"] = throughput(fold)
    row = dict(folds[0], folds=folds)
    keys = ("val_rmse", "test_rmse", "test_mae", "train_seconds", "wall_seconds", "throughput")
    for key in keys:
        values = [f[key] for f in folds]
        row[key] = statistics.mean(values)
        row[f"{key}_std"] = statistics.stdev(values)
    return row


def _order(row: dict[str, Any]) -> int:
    """Rows in FAMILIES order, peers last."""
    family = row["family"]
    return FAMILIES.index(family) if family in FAMILIES else len(FAMILIES)


def _cell(row: dict[str, Any], key: str, digits: int = 4) -> str:
    value = row.get(key)
    if value is None:
        return "-"
    text = f"{value:,.{digits}f}"
    std = row.get(f"{key}_std")
    return f"{text} ± {std:,.{digits}f}" if std is not None else text


def table(rows: list[dict[str, Any]], split: str) -> str:
    lines = [
        "| spec | family | val RMSE | test RMSE | test MAE | best epoch / epochs "
        "| train s | wall s | ratings/s (x epochs) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        r.setdefault("throughput", throughput(r))
        epochs = f"{r['best_epoch']} / {r['epochs_run']}" if r.get("best_epoch") else "-"
        if split == "folds":
            epochs = ", ".join(f"{f['best_epoch']}/{f['epochs_run']}" for f in r["folds"])
        lines.append(
            f"| {r['spec']} | {r['family']} | {_cell(r, 'val_rmse')} | {_cell(r, 'test_rmse')} "
            f"| {_cell(r, 'test_mae')} | {epochs} | {_cell(r, 'train_seconds', 1)} "
            f"| {_cell(r, 'wall_seconds', 1)} | {_cell(r, 'throughput', 0)} |"
        )
    return "\n".join(lines)


TITLES = {
    "u1": "ML-100K u1 (u1.base / u1.test, validation = a seeded 5% of u1.base)",
    "random": "ML-100K random split of mf.yaml (test 0.1, val 0.05, seed 42)",
    "folds": "ML-100K official folds u1..u5 (mean ± std over the five folds)",
}


def markdown(results: dict[str, Any]) -> str:
    parts = [
        "# Accuracy families on MovieLens 100K (issue 13)",
        "",
        "(a run's spec file: configs/movielens-100k/; `make bench-accuracy-families` runs all)",
        "",
        "Written by `python -m benchmarks.accuracy_families --split SPLIT` (SPLIT = u1, random,",
        "folds); every number is read from the runs' metrics.json. One run per cell, seed 42, on",
        "a 2-core CPU shared with other jobs: wall times vary 2-3x with the load. ratings/s =",
        "train ratings x epochs / train seconds (a GLocal-K epoch is one L-BFGS-B run of 5",
        "iterations; an ensemble's epochs are all its members' epochs).",
    ]
    for split in ("u1", "random", "folds"):
        if split in results:
            entry = results[split]
            parts += ["", f"## {TITLES[split]}", "", f"{entry['date']}", ""]
            parts.append(table(entry["rows"], split))
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--only", default=",".join(FAMILIES))
    parser.add_argument("--split", choices=["u1", "random", "folds"], default="u1")
    parser.add_argument("--no-surprise", action="store_true")
    parser.add_argument("--runs-dir", type=Path, help="keep the run directories here")
    args = parser.parse_args(argv)
    if not (SHARED_DATA / "ml-100k" / "u1.base").is_file():
        print(f"MovieLens 100K not found in {SHARED_DATA}/ml-100k: nothing to do")
        return 0
    os.environ.setdefault("RECEXP_DATA_DIR", str(SHARED_DATA))
    families = [f for f in args.only.split(",") if f]
    with tempfile.TemporaryDirectory() as tmp:
        root = args.runs_dir or Path(tmp)
        rows = run_split(args.split, families, root, not args.no_surprise)
    path = RESULTS / "accuracy_families.json"
    results = json.loads(path.read_text()) if path.is_file() else {}
    new = {row["spec"] for row in rows}
    kept = [row for row in results.get(args.split, {}).get("rows", []) if row["spec"] not in new]
    results[args.split] = {
        "date": time.strftime("%Y-%m-%d"),
        "rows": sorted(kept + rows, key=_order),
    }
    path.write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "accuracy_families.md").write_text(markdown(results))
    print(table(rows, args.split))
    return 0


if __name__ == "__main__":
    sys.exit(main())
