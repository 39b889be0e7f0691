"""Scale cases: mf and neumf at MovieLens 25M's shape beside MovieLens 1M's, one process each.

    python -m benchmarks.speed_scale SPEC [--set KEY=VALUE ...]   # prints one JSON line

Each case runs in its own process so that its peak RSS is its own, the two shapes'
processes alternated for a few rounds; each shape's figures are its median run. Ratings/s
is recexp's
steady-state figure (the median epoch after the first, which pays for tracing); with
``training.steps_per_epoch`` an epoch is that many batches of a fresh shuffle, so the
figure is per rating trained, not per pass over the data.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.child import module_json

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "configs" / "speed"
#: MovieLens 1M's shape, as overrides of the 25M-shape specs
ML1M_SHAPE = ["dataset.n_users=6040", "dataset.n_items=3706", "dataset.n_ratings=1000209"]


def run_case(spec: Path, overrides: list[str]) -> dict[str, Any]:
    from recexp.config import load_spec
    from recexp.experiment import run_experiment

    config = load_spec(spec, overrides)
    start = time.perf_counter()
    run = run_experiment(config, tempfile.mkdtemp(prefix="recexp-scale-"), quiet=True)
    m = json.loads((run.path / "metrics.json").read_text())
    return {
        "spec": spec.name,
        "overrides": overrides,
        "optimizer": config.optimizer.name
        + (", row-wise tables" if getattr(config.optimizer, "tables", None) else ""),
        "users": config.dataset.n_users,  # type: ignore[union-attr]
        "items": config.dataset.n_items,  # type: ignore[union-attr]
        "ratings": config.dataset.n_ratings,  # type: ignore[union-attr]
        "ratings_per_second": m["ratings_per_second"],
        "peak_rss_mb": m["peak_rss_mb"],
        "load_encode_seconds": m["data_seconds"],
        "train_seconds": m["train_seconds"],
        "epochs": m["epochs_run"],
        "test_rmse": m["test"]["rmse"],
        "wall_seconds": time.perf_counter() - start,
    }


def in_subprocess(spec: str, overrides: list[str]) -> dict[str, Any]:
    """:func:`run_case` in a fresh process (its own peak RSS); its JSON line back."""
    return module_json("benchmarks.speed_scale", str(SPECS / spec), overrides=overrides)


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median ratings/s (the lower middle one for an even count), with
    every run's ratings/s beside it as ``rounds``."""
    ranked = sorted(runs, key=lambda r: r["ratings_per_second"])
    return {**ranked[(len(ranked) - 1) // 2], "rounds": [r["ratings_per_second"] for r in runs]}


def scale_cases(
    steps_per_epoch: int | None, quick: bool = False, rounds: int = 3
) -> list[dict[str, Any]]:
    """mf and neumf, each at the 1M shape and the 25M shape (bounded epochs if asked),
    the two shapes' processes alternated ``rounds`` times; each shape's median run."""
    bound = [] if steps_per_epoch is None else [f"training.steps_per_epoch={steps_per_epoch}"]
    big = (
        ["dataset.n_users=40000", "dataset.n_items=15000", "dataset.n_ratings=3000000"]
        if quick
        else []
    )
    cases = []
    for family in ("mf", "neumf"):
        spec = f"{family}_ml25m_shape.yaml"
        runs: dict[str, list[dict[str, Any]]] = {"1M": [], "25M": []}
        for _ in range(rounds):  # alternated: a slow spell of the machine hits both shapes
            for shape, overrides in (("1M", ML1M_SHAPE), ("25M", big + bound)):
                runs[shape].append(in_subprocess(spec, overrides))
                print(f"[scale {family} {shape} shape] {runs[shape][-1]}", flush=True)
        small, large = median_run(runs["1M"]), median_run(runs["25M"])
        cases.append(
            {
                "family": family,
                "ml1m_shape": small,
                "ml25m_shape": large,
                "ratio": large["ratings_per_second"] / small["ratings_per_second"],
                "steps_per_epoch": steps_per_epoch,
            }
        )
    return cases


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("spec", type=Path)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    print(json.dumps(run_case(args.spec, args.overrides)))


if __name__ == "__main__":
    main()
