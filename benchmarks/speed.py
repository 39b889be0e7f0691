"""Speed benchmark: the seeds' plain Keras code vs recexp, side by side, each in its own process.

    python -m benchmarks.speed [--quick] [--reference-epochs N]

For each case, the *reference* is written the way the seeds write it: a plain Keras
functional model, ``model.fit`` on int arrays, batch 256, Adam 1e-3, default settings,
Keras' own EarlyStopping. *recexp* trains the spec in ``configs/speed/`` (compiled
epochs, lazy Adam, large batches) through ``recexp train``. Both see the same split and
the same int32 codes; both are scored by the same function (clipped to the rating scale).
Writes ``benchmarks/results/speed.json`` and ``speed.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.child import module_json, run_module
from benchmarks.speed_report import markdown

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SHARED_DATA = ROOT.parent / "shared" / "data"
SPECS = ROOT / "configs" / "speed"


def run_reference(family: str, spec: Path, overrides: list[str], epochs: int) -> dict[str, Any]:
    """The seeds' Keras in its own process (TensorFlow's default thread pools)."""
    args = (family, str(spec), str(epochs))
    return module_json("benchmarks.speed_reference", *args, overrides=overrides)


def run_recexp(spec: Path, overrides: list[str], runs: Path) -> dict[str, Any]:
    """``recexp train SPEC`` as a user runs it (its own process: the spec's thread pools)."""
    root = runs / f"case{len(list(runs.glob('case*')))}"
    start = time.perf_counter()
    args = ("train", str(spec), "--runs-dir", str(root), "--quiet")
    run_module("recexp", *args, overrides=overrides)
    wall = time.perf_counter() - start
    (run,) = root.iterdir()
    m = json.loads((run / "metrics.json").read_text())
    return {
        "ratings_per_second": m["ratings_per_second"],
        "epochs": m["epochs_run"],
        "best_epoch": m["best_epoch"],
        "train_seconds": m["train_seconds"],
        "train_plus_eval_seconds": m["train_seconds"] + m["eval_seconds"],
        "wall_seconds": wall,
        "test_rmse": m["test"]["rmse"],
        "oracle_rmse": m["test"].get("oracle_rmse"),
        "params": m["params"],
        "peak_rss_mb": m["peak_rss_mb"],
        "run": str(run),
    }


def startup_seconds(runs: Path) -> dict[str, float]:
    """Median wall time of `recexp --help` and of `recexp compare` over 200 run directories."""
    from recexp.runs import RunDir

    root = runs / "compare200"
    for i in range(200):
        run = RunDir.create(root, f"r{i}")
        run.set_status("completed")
        run.write_json(
            "metrics.json",
            {"dataset": "synthetic", "model": "mf", "test": {"rmse": 0.9 + i / 1e4, "mae": 0.7}},
        )
    exe = [sys.executable, "-m", "recexp"]

    def timed(args: list[str]) -> float:
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            subprocess.run(exe + args, check=True, capture_output=True)
            times.append(time.perf_counter() - t0)
        return statistics.median(times)

    dirs = [str(p) for p in sorted(root.iterdir())]
    return {"help_seconds": timed(["--help"]), "compare_200_seconds": timed(["compare", *dirs])}


def jester_dataset() -> str:
    """The Jester-shape dataset block of configs/speed, as one ``--set dataset=...`` value."""
    import yaml

    spec = yaml.safe_load((ROOT / "configs" / "speed" / "neumf_jester_shape.yaml").read_text())
    return "dataset=" + json.dumps(spec["dataset"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller data, for a smoke check")
    parser.add_argument(
        "--reference-epochs",
        type=int,
        default=1,
        help="cap on the reference's epochs for the Jester-shape case "
        "(at ~20k ratings/s one epoch takes minutes)",
    )
    parser.add_argument(
        "--accuracy-epochs",
        type=int,
        default=6,
        help="cap on the NeuMF accuracy spec's epochs on the Jester shape",
    )
    parser.add_argument(
        "--scale-steps",
        type=int,
        default=1500,
        help="batches per epoch of the 25M-shape cases (0: whole epochs)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=["cases", "peers", "scale", "profile", "startup"],
        help="run only these sections (repeat); the others are kept from the last speed.json",
    )
    parser.add_argument(
        "--render", action="store_true", help="only re-render speed.md from speed.json"
    )
    args = parser.parse_args()
    if args.render:
        report = json.loads((RESULTS / "speed.json").read_text())
        (RESULTS / "speed.md").write_text(markdown(report))
        print(markdown(report))
        return
    os.environ.setdefault("RECEXP_DATA_DIR", str(SHARED_DATA))
    print(markdown(run_all(args)))


def save(report: dict[str, Any]) -> None:
    """speed.json and speed.md as they stand (after every section: a later failure keeps
    the sections measured before it)."""
    report["machine"] = {
        "cpus": os.cpu_count(),
        "platform": sys.platform,
        "load_average_at_end": [round(x, 1) for x in os.getloadavg()],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "speed.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "speed.md").write_text(markdown(report))


def run_cases(args: Any, runs: Path) -> list[dict[str, Any]]:
    """The seeds' plain Keras vs recexp's speed specs, and NeuMF's accuracy spec, on one split."""
    from recexp.config import load_spec
    from recexp.data import prepare

    quick = ["dataset.n_users=5000", "dataset.n_ratings=300000"] if args.quick else []
    cases: list[dict[str, Any]] = []

    def case(name: str, family: str, spec: Path, overrides: list[str], ref: Any) -> Any:
        config = load_spec(spec, overrides)
        data = prepare(config.dataset, config.seed)
        print(f"[{name}] {len(data.train):,} training ratings", flush=True)
        epochs = args.reference_epochs if "jester" in name else 100
        ref = ref or run_reference(family, spec, overrides, epochs)
        print(f"[{name}] reference: {ref}", flush=True)
        fast = run_recexp(spec, overrides, runs)
        print(f"[{name}] recexp: {fast}", flush=True)
        cases.append(
            {
                "case": name,
                "spec": str(spec.relative_to(ROOT)),
                "reference": ref,
                "recexp": fast,
                "speedup": fast["ratings_per_second"] / ref["ratings_per_second"],
                "rmse_ratio": fast["test_rmse"] / ref["test_rmse"],
            }
        )
        return ref

    speed, accuracy = SPECS, ROOT / "configs" / "movielens-100k"
    ref = case("neumf-jester-shape", "neumf", speed / "neumf_jester_shape.yaml", quick, None)
    jester = [jester_dataset(), *quick, f"training.max_epochs={args.accuracy_epochs}"]
    case("neumf-jester-shape", "neumf", accuracy / "neumf.yaml", jester, ref)
    case("mf-ml100k", "mf", speed / "mf_ml100k.yaml", [], None)
    return cases


def run_peers(args: Any) -> list[dict[str, Any]]:
    """recexp's MF specs and Surprise on the same split, each case in its own process."""
    quick = ["dataset.n_users=5000", "dataset.n_ratings=300000"] if args.quick else []
    peers = []
    for name, key, spec, overrides in [
        ("mf-ml100k", "ml100k", ROOT / "configs" / "movielens-100k" / "mf.yaml", []),
        ("mf-ml100k", "ml100k", SPECS / "mf_ml100k.yaml", []),
        ("mf-jester-shape", "jester-shape", SPECS / "mf_jester_shape.yaml", quick),
    ]:
        algos = "SVD" if spec.parent == SPECS and key == "ml100k" else "SVD,SVDpp"
        case = (name, key, str(spec), algos)
        result = module_json("benchmarks.speed_peers", *case, overrides=overrides)
        result["spec"] = str(spec.relative_to(ROOT))
        peers.append(result)
    return peers


def run_all(args: Any) -> dict[str, Any]:
    """The sections asked for (``--only``), merged into the last speed.json, which is
    saved after each section."""
    from benchmarks.speed_scale import scale_cases

    path = RESULTS / "speed.json"
    report: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    for old in ("scale_tenth", "scale_vs_small", "scale_vs_tenth"):  # formats before issue 14
        report.pop(old, None)
    if isinstance(report.get("scale"), dict):
        del report["scale"]
    runs = Path(tempfile.mkdtemp(prefix="recexp-bench-"))
    sections = {
        "cases": lambda: run_cases(args, runs),
        "peers": lambda: run_peers(args),
        "scale": lambda: scale_cases(args.scale_steps or None, quick=args.quick),
        "profile": lambda: module_json("benchmarks.speed_profile"),
        "startup": lambda: startup_seconds(runs),
    }
    for name, run in sections.items():
        if not args.only or name in args.only:
            report[name] = run()
            save(report)
    return report


if __name__ == "__main__":
    main()
