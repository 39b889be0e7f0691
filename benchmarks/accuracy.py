"""Accuracy benchmark: the tuned specs in ``configs/movielens-100k/`` on real MovieLens 100K.

    python -m benchmarks.accuracy [--only mf,neumf] [--runs-dir DIR]

``--only`` retrains those specs and replaces their rows in the last results, keeping the rest.

Needs the MovieLens 100K files in ``../shared/data/ml-100k`` next to the repository
(``RECEXP_DATA_DIR`` is pointed at ``../shared/data``); without them it says so and exits
0. Every spec is trained in this process through :func:`recexp.experiment.run_experiment`
into a temporary runs directory (``--runs-dir`` keeps the run directories instead), and
every number in the output is read back from the runs' ``metrics.json``.

Each family has a target test RMSE (and ``two_tower`` a top-100 accuracy on the 5-star
test pairs, seed 003's metric); the published Surprise numbers are given next to the
rows they compare with. The specs' hyperparameters were chosen on the validation part
(see the comments in each spec), never on the test part. Writes
``benchmarks/results/accuracy.json`` and ``accuracy.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "configs" / "movielens-100k"
RESULTS = ROOT / "benchmarks" / "results"
SHARED_DATA = ROOT.parent / "shared" / "data"


@dataclass(frozen=True)
class Target:
    """What a spec must reach on its test part, and the published number it compares with."""

    rmse: float
    reference: str
    top_k_accuracy: float | None = None  # two_tower: top-100 accuracy on the 5-star test pairs


#: spec file stem -> target. Reference numbers are Surprise's published MovieLens 100K
#: results (random 5-fold CV for BaselineOnly and SVD; the u1 fold for the u1 row).
TARGETS: dict[str, Target] = {
    "biases": Target(0.945, "Surprise BaselineOnly 0.946"),
    "mf": Target(0.905, "Surprise SVD 0.934 (default) / 0.914 (tuned)"),
    "mf_u1": Target(0.951, "Surprise SVD 0.951 on u1"),
    "neumf": Target(0.915, "-"),
    "mlp": Target(0.930, "-"),
    "two_tower": Target(0.930, "seed 003 metric: top-100 accuracy", top_k_accuracy=0.30),
}
ORDER = ["biases", "mf", "mf_u1", "neumf", "mlp", "two_tower"]


#: top-N specs (no rating to score): benchmarks/ranking.py measures them
TOP_N = {"ease", "item_knn"}


def spec_files(only: list[str] | None) -> list[Path]:
    files = [
        p
        for p in sorted(SPECS.glob("*.yaml"))
        if p.stem not in TOP_N and not p.stem.endswith("_topn")
    ]
    rank = {stem: i for i, stem in enumerate(ORDER)}
    files.sort(key=lambda p: (rank.get(p.stem, len(ORDER)), p.stem))
    if only:
        missing = set(only) - {p.stem for p in files}
        if missing:
            raise SystemExit(f"no such spec in {SPECS}: {', '.join(sorted(missing))}")
        files = [p for p in files if p.stem in only]
    return files


def train(spec: Path, runs_root: Path) -> dict[str, Any]:
    """Train one spec in-process; the row of the report, from the run's metrics.json."""
    from recexp.config import load_spec
    from recexp.experiment import run_experiment

    config = load_spec(spec)
    start = time.perf_counter()
    run = run_experiment(config, runs_root=runs_root, quiet=True)
    wall = time.perf_counter() - start
    metrics = json.loads((run.path / "metrics.json").read_text())
    split = config.dataset.split
    row: dict[str, Any] = {
        "spec": str(spec.relative_to(ROOT)),
        "name": config.name,
        "family": config.model.family,
        "split": split.model_dump(mode="json", exclude_defaults=True)
        | {"strategy": split.strategy},
        "seed": config.seed,
        "train": metrics["data"]["train"],
        "val": metrics["data"]["val"],
        "test": metrics["data"]["test"],
        "val_rmse": metrics["val"]["rmse"],
        "test_rmse": metrics["test"]["rmse"],
        "test_mae": metrics["test"]["mae"],
        "global_mean_test_rmse": metrics["baselines"]["global_mean_test_rmse"],
        "best_epoch": metrics["best_epoch"],
        "epochs_run": metrics["epochs_run"],
        "early_stopped": metrics["early_stopped"],
        "train_seconds": metrics["train_seconds"],
        "wall_seconds": round(wall, 2),
        "params": metrics["params"],
        "optimizer": metrics["optimizer"],
        "batch_size": metrics["batch_size"],
    }
    if "retrieval" in metrics:
        row["retrieval"] = metrics["retrieval"]
    target = TARGETS.get(spec.stem)
    if target is not None:
        row["target"] = {
            "test_rmse": target.rmse,
            "top_k_accuracy": target.top_k_accuracy,
            "reference": target.reference,
        }
        met = row["test_rmse"] <= target.rmse
        if target.top_k_accuracy is not None:
            accuracy = row.get("retrieval", {}).get("top_k_accuracy")
            met = met and accuracy is not None and accuracy >= target.top_k_accuracy
        row["met"] = bool(met)
    return row


def _split_label(split: dict[str, Any]) -> str:
    if split.get("strategy") == "predefined":
        return f"{split.get('fold')} fold, val {split.get('val', 0):g} of base"
    return f"random, test {split.get('test', 0.1):g}, val {split.get('val', 0.1):g}"


def _rerun_note(rows: list[dict[str, Any]]) -> list[str]:
    """A line naming the rows retrained after the rest (``--only``), if any."""
    dates = [r.get("finished_utc") or "" for r in rows]
    if len(set(dates)) < 2:
        return []
    first = min(dates)
    pairs = zip(rows, dates, strict=True)
    later = [f"`{Path(r['spec']).name}` ({d})" for r, d in pairs if d > first]
    return ["", "Rows retrained since with `--only`: " + ", ".join(later) + "."]


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Accuracy on MovieLens 100K",
        "",
        f"`python -m benchmarks.accuracy` on {report['machine']['cpus']} CPU cores, "
        f"{report['finished_utc']}. Every measured number below is read from the runs' "
        "metrics.json; targets and reference numbers are fixed in `benchmarks/accuracy.py`.",
        *_rerun_note(report["rows"]),
        "",
        "| family | spec | split | val RMSE | test RMSE | test MAE | target | met? "
        "| top-100 acc. (5-star test pairs) | best epoch / epochs | train s | params "
        "| reference |",
        "|---|---|---|---:|---:|---:|---|---|---:|---:|---:|---:|---|",
    ]
    for row in report["rows"]:
        target = row.get("target")
        retrieval = row.get("retrieval")
        if target is None:
            goal, met, reference = "-", "-", "-"
        else:
            goal = f"RMSE <= {target['test_rmse']:.3f}"
            if target["top_k_accuracy"] is not None:
                goal += f", top-100 >= {target['top_k_accuracy']:.2f}"
            met = "yes" if row["met"] else "**no**"
            reference = target["reference"]
        top = (
            f"{retrieval['top_k_accuracy']:.4f} (k={retrieval['k']}, {retrieval['n_pairs']} pairs)"
            if retrieval
            else "-"
        )
        lines.append(
            f"| {row['family']} | `{Path(row['spec']).name}` | {_split_label(row['split'])} "
            f"| {row['val_rmse']:.4f} | {row['test_rmse']:.4f} | {row['test_mae']:.4f} "
            f"| {goal} | {met} | {top} | {row['best_epoch']} / {row['epochs_run']} "
            f"| {row['train_seconds']:.1f} | {row['params']:,} | {reference} |"
        )
    rows = report["rows"]
    met = [r for r in rows if "met" in r]
    lines += [
        "",
        f"Targets met: {sum(r['met'] for r in met)} of {len(met)}. "
        f"Total wall time {report['wall_seconds']:.0f} s.",
        "",
        "Random split: the ratings shuffled with the spec's seed; the first 10% are the test "
        "part, the next 5% of all ratings (taken from the remaining 90%) the validation part "
        "for early stopping, the rest (85%) train. The u1 row trains on u1.base less a random "
        "5% validation part and tests on u1.test. Hyperparameters were selected on the "
        "validation part only (the search is noted in each spec's comments). Reference "
        "numbers are Surprise's published MovieLens 100K results; the u1 row is the same "
        "fold as Surprise's 0.951.",
        "",
    ]
    return "\n".join(lines)


def _write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def merged_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``--only``'s rows in place of the same specs' rows of the last accuracy.json (the
    others kept as they were, each with its own ``finished_utc`` if it has one)."""
    last = RESULTS / "accuracy.json"
    if not last.is_file():
        return rows
    fresh = {r["spec"]: r for r in rows}
    kept = json.loads(last.read_text()).get("rows", [])
    out = [fresh.pop(r["spec"], r) for r in kept]
    return out + list(fresh.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated spec names (file stems), e.g. mf,neumf")
    parser.add_argument("--runs-dir", type=Path, help="keep the run directories here")
    args = parser.parse_args(argv)

    if not (SHARED_DATA / "ml-100k" / "u.data").is_file():
        print(
            f"benchmarks.accuracy: skipped: MovieLens 100K not found at {SHARED_DATA / 'ml-100k'} "
            "(expected ../shared/data/ml-100k next to the repository)"
        )
        return 0
    files = spec_files(args.only.split(",") if args.only else None)
    os.environ["RECEXP_DATA_DIR"] = str(SHARED_DATA)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    # model.predict on one new model per spec makes TF warn about retracing: expected here
    tf.get_logger().setLevel("ERROR")

    start = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory(prefix="recexp-accuracy-") as tmp:
        runs_root = args.runs_dir or Path(tmp)
        for spec in files:
            print(f"== {spec.relative_to(ROOT)}", flush=True)
            row = train(spec, runs_root)
            row["finished_utc"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            top = row.get("retrieval", {}).get("top_k_accuracy")
            print(
                f"   test RMSE {row['test_rmse']:.4f}  MAE {row['test_mae']:.4f}"
                + (f"  top-100 {top:.4f}" if top is not None else "")
                + f"  epochs {row['best_epoch']}/{row['epochs_run']}"
                f"  {row['train_seconds']:.1f} s"
                + (
                    ""
                    if "met" not in row
                    else ("  target met" if row["met"] else "  TARGET MISSED")
                ),
                flush=True,
            )
            rows.append(row)

    import keras

    report = {
        "finished_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "wall_seconds": round(time.perf_counter() - start, 1),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
        },
        "data": str(SHARED_DATA / "ml-100k"),
        "rows": merged_rows(rows) if args.only else rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    _write(RESULTS / "accuracy.json", json.dumps(report, indent=2) + "\n")
    _write(RESULTS / "accuracy.md", markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
