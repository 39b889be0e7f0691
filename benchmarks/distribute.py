"""Distribution benchmark: ratings/s of one spec under each ``training.distribute`` strategy.

    python -m benchmarks.distribute [--epochs N]

The spec: mf (dim 32, lazy Adam, batch 4096, compiled engine) on the embedded synthetic
dataset (MovieLens 100K's shape), a fixed number of epochs. Each case is a fresh
``recexp train`` process (``mirrored`` needs its logical CPU devices before TensorFlow
starts; ``multi_worker`` is two processes on 127.0.0.1 with TF_CONFIG). ratings/s is
recexp's own figure (median epoch after the first). ``parameter_server`` is refused at
validation; its row says why. Writes ``benchmarks/results/distribute.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SPEC = """\
name: dist-{case}
seed: 42
dataset: {{name: synthetic}}
model: {{family: mf, dim: 32}}
optimizer: {{name: lazy_adam, learning_rate: 0.02}}
training:
  batch_size: 4096
  max_epochs: {epochs}
  early_stopping: null
  distribute: {distribute}
"""
CASES = {
    "none": ("{strategy: none}", 1),
    "mirrored x2": ("{strategy: mirrored, devices: 2}", 1),
    "multi_worker x2": ("{strategy: multi_worker}", 2),
}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_case(case: str, epochs: int, root: Path) -> dict[str, Any]:
    distribute, processes = CASES[case]
    spec = root / f"{case.replace(' ', '_')}.yaml"
    spec.write_text(SPEC.format(case=case.replace(" ", "-"), epochs=epochs, distribute=distribute))
    runs = root / spec.stem
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = [sys.executable, "-m", "recexp", "train", str(spec), "--runs-dir", str(runs)]
    ports = [free_port() for _ in range(processes)]
    start = time.perf_counter()
    workers = []
    for i in range(processes):
        if processes > 1:
            cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
            env["TF_CONFIG"] = json.dumps(
                {"cluster": cluster, "task": {"type": "worker", "index": i}}
            )
        workers.append(subprocess.Popen([*command, "--quiet"], env=dict(env), cwd=ROOT))
    try:
        codes = [w.wait(timeout=900) for w in workers]
    finally:
        for w in workers:
            w.kill()
    wall = time.perf_counter() - start
    if codes != [0] * processes:
        raise SystemExit(f"{case}: exit codes {codes}")
    (run,) = runs.iterdir()
    m = json.loads((run / "metrics.json").read_text())
    return {
        "case": case,
        "processes": processes,
        "replicas": processes if processes > 1 else (1 if case == "none" else 2),
        "ratings_per_second": m["ratings_per_second"],
        "train_seconds": m["train_seconds"],
        "wall_seconds": round(wall, 1),
        "epochs": m["epochs_run"],
        "test_rmse": m["test"]["rmse"],
    }


def markdown(rows: list[dict[str, Any]], refused: str) -> str:
    base = rows[0]["ratings_per_second"]
    lines = [
        "| case | processes | replicas | ratings/s | vs none | train s | wall s (incl. start) "
        "| epochs | test RMSE |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['processes']} | {r['replicas']} | {r['ratings_per_second']:,.0f} "
            f"| {r['ratings_per_second'] / base:.2f}x | {r['train_seconds']:.1f} "
            f"| {r['wall_seconds']:.1f} | {r['epochs']} | {r['test_rmse']:.4f} |"
        )
    lines.append("| parameter_server (2 ps, 2 workers) | - | - | refused | - | - | - | - | - |")
    return "\n".join(lines) + f"\n\nparameter_server: {refused}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()
    from recexp.training.distribute_options import PARAMETER_SERVER_REFUSED

    with tempfile.TemporaryDirectory() as tmp:
        rows = [run_case(case, args.epochs, Path(tmp)) for case in CASES]
    machine = f"{platform.machine()}, {os.cpu_count()} CPU cores, no GPU"
    record = {"machine": machine, "epochs": args.epochs, "rows": rows}
    record["parameter_server"] = "refused: " + PARAMETER_SERVER_REFUSED
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "distribute.json").write_text(json.dumps(record, indent=2) + "\n")
    text = f"Machine: {machine}; mf dim 32, lazy Adam, batch 4096, synthetic 100K ratings, "
    text += f"{args.epochs} epochs.\n\n" + markdown(rows, PARAMETER_SERVER_REFUSED)
    (RESULTS / "distribute.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
