"""Tuning benchmark: ``recexp tune`` and ``recexp sweep`` on real MovieLens 100K.

    python -m benchmarks.tune [--only NAME,...] [--runs-dir DIR]
    python -m benchmarks.tune --adopt NAME=STUDY_DIR[@SECONDS]   # a study run by hand
    python -m benchmarks.tune --table                            # tune.md from tune.json

Each study below runs through the command line, one at a time (as a user would run it),
into ``--runs-dir`` (default ``benchmarks/results/runs/tune``, not committed); every
number is then read back from the study directory (study.json, metrics.json). Results
are merged into ``benchmarks/results/tune.json`` (one entry per study name, so studies
can be run in several sittings) and the whole table is written to ``tune.md``.

"wall s" is the study's own time (study.json: its sessions, from the first trial's start
to the selection), "process s" the command's wall time including start-up.
Needs ``../shared/data/ml-100k`` next to the repository (``RECEXP_DATA_DIR``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SHARED_DATA = ROOT.parent / "shared" / "data"
MF = ["configs/movielens-100k/mf.yaml"]
MF_SPACE = [*MF, "--space", "configs/spaces/mf.yaml"]
#: the hand-tuned spec (configs/movielens-100k/mf.yaml, benchmarks/results/accuracy.md)
HAND_TUNED = {"val_rmse": 0.8993, "test_rmse": 0.8950}

#: name -> (command after ``recexp``, what it shows)
STUDIES: dict[str, tuple[list[str], str]] = {
    "mf-tpe-40": (["tune", *MF_SPACE, "--trials", "40"], "TPE, median pruner"),
    "mf-tpe-40-no-pruning": (
        ["tune", *MF_SPACE, "--trials", "40", "--pruner", "none"],
        "the same study without pruning",
    ),
    "mf-10-local-jobs2": (
        ["tune", *MF_SPACE, "--trials", "10", "--pruner", "none", "--jobs", "2"],
        "10 trials, 2 worker processes",
    ),
    "mf-10-ray": (
        ["tune", *MF_SPACE, "--trials", "10", "--pruner", "none", "--backend", "ray"],
        "10 trials, local Ray (2 CPUs, 1 per trial)",
    ),
    "mf-hand-grid-1": (
        ["sweep", *MF, "--set", "training.batch_size=512", "--grid", "model.l2=0.03,0.05,0.1,0.2"]
        + ["--grid", "model.dim=32,64,128", "--grid", "optimizer.learning_rate=0.002,0.005"],
        "the spec's first hand grid (24 runs) as a sweep",
    ),
    "mf-hand-grid-2": (
        ["sweep", *MF, "--grid", "model.l2=0.08,0.1,0.13", "--grid"]
        + ["optimizer.learning_rate=0.001,0.002", "--grid", "training.batch_size=256,1024"],
        "the spec's second hand grid (12 runs) as a sweep",
    ),
}


def run_study(name: str, runs_dir: Path) -> dict[str, Any]:
    command, _ = STUDIES[name]
    target = runs_dir / name
    env = {**os.environ, "RECEXP_DATA_DIR": str(SHARED_DATA)}
    argv = [sys.executable, "-m", "recexp", *command, "--runs-dir", str(target), "--quiet"]
    print(f"== {name}: recexp {' '.join(command)}", flush=True)
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, env=env, check=True)
    seconds = time.perf_counter() - start
    (study,) = sorted(target.iterdir())[-1:]
    return {**summarise(name, study), "process_seconds": round(seconds, 1)}


def summarise(name: str, study: Path) -> dict[str, Any]:
    """The numbers of one finished study, from its own files."""
    record = json.loads((study / "study.json").read_text())
    metrics = json.loads((study / "metrics.json").read_text())
    status = json.loads((study / "status.json").read_text())
    counts = record["counts"]
    return {
        "name": name,
        "command": "recexp " + " ".join(STUDIES[name][0]) if name in STUDIES else None,
        "shows": STUDIES[name][1] if name in STUDIES else "",
        "study": str(study),
        "status": status["status"],
        "sampler": record["sampler"],
        "pruner": record["pruner"] or "median",
        "backend": record["sessions"][-1]["backend"],
        "jobs": record["sessions"][-1]["jobs"],
        "trials": len(record["trials"]),
        "complete": counts["complete"],
        "pruned": counts["pruned"],
        "failed": counts["fail"],
        "epochs_trained": record["epochs_trained"],
        "wall_seconds": record["wall_seconds"],
        "selected": record["selected"],
        "best_params": record["best_params"],
        "val_rmse": metrics["val"]["rmse"],
        "test_rmse": metrics["test"]["rmse"],
    }


def _params(params: dict[str, Any]) -> str:
    def short(v: Any) -> str:
        return f"{v:.3g}" if isinstance(v, float) else json.dumps(v)

    return ", ".join(f"{k.rsplit('.', 1)[-1]} {short(v)}" for k, v in params.items())


def markdown(results: dict[str, dict[str, Any]]) -> str:
    head = (
        "| study | what it shows | trials (complete / pruned / failed) | epochs trained | "
        "wall s | process s | selected: val RMSE | its test RMSE | selected params |\n"
        "|---|---|---|---:|---:|---:|---:|---:|---|\n"
    )
    ordered = [results[n] for n in [*STUDIES, *sorted(set(results) - set(STUDIES))] if n in results]
    rows = [
        f"| `{r['name']}` | {r['shows']} | {r['trials']} ({r['complete']} / {r['pruned']} / "
        f"{r['failed']}) | {r['epochs_trained']} | {r['wall_seconds']:.0f} | "
        f"{r.get('process_seconds') or '-'} | {r['val_rmse']:.4f} | {r['test_rmse']:.4f} | "
        f"{_params(r['best_params'])} |"
        for r in ordered
    ]
    ref = (
        f"\nHand-tuned `configs/movielens-100k/mf.yaml`: val RMSE {HAND_TUNED['val_rmse']:.4f}, "
        f"test RMSE {HAND_TUNED['test_rmse']:.4f}. Selection reads val RMSE only; the test "
        "RMSE is the selected trial's. Wall times are from a 2-core machine shared with other "
        "jobs: rough.\n\nCommands:\n\n"
        + "\n".join(f"- `{r['name']}`: `{r['command']}`" for r in ordered if r["command"])
        + "\n"
    )
    return "# recexp tune on MovieLens 100K\n\n" + head + "\n".join(rows) + "\n" + ref


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.tune")
    parser.add_argument("--only", help="comma-separated study names", default=None)
    parser.add_argument("--runs-dir", type=Path, default=RESULTS / "runs" / "tune")
    parser.add_argument("--adopt", action="append", default=[], metavar="NAME=STUDY_DIR[@S]")
    parser.add_argument("--table", action="store_true", help="only rewrite tune.md")
    args = parser.parse_args(argv)
    if not (SHARED_DATA / "ml-100k" / "u.data").exists():
        print(f"no MovieLens 100K in {SHARED_DATA}: nothing to do")
        return 0
    path = RESULTS / "tune.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    for item in args.adopt:
        name, _, study = item.partition("=")
        study, _, seconds = study.partition("@")
        results[name] = summarise(name, Path(study))
        results[name]["process_seconds"] = float(seconds) if seconds else None
    names = args.only.split(",") if args.only else list(STUDIES)
    if args.adopt or args.table:
        names = args.only.split(",") if args.only else []
    for name in names:
        results[name] = run_study(name, args.runs_dir)
        path.write_text(json.dumps(results, indent=2) + "\n")
    path.write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "tune.md").write_text(markdown(results))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
