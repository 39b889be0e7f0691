"""Benchmark: Keras Adam/Adagrad vs recexp's LazyAdam/SparseAdagrad on a biased MF model.

A script, not a test::

    .venv/bin/python benchmarks/sparse_optimizers.py            # ~3 minutes on 2 CPU cores
    .venv/bin/python benchmarks/sparse_optimizers.py --full     # every epoch = all 1M ratings

Model: user/item ``Embedding`` (dim 32) + user/item bias embeddings, dot product, MSE.
Data: 1M random ratings on two shapes -- 73,421 users x 100 items (Jester-like) and
100k users x 20k items. For each (shape, batch size, optimizer, jit_compile) the model
is trained for two epochs and the *second* is timed (the first pays tracing / XLA
compilation). Without ``--full`` each epoch is a pass over the first
``steps x batch_size`` ratings of the 1M (150/25 steps at batch 256/4096, 60/12 under
XLA; rows are drawn uniformly, so a batch touches the same kind of rows as in a full
epoch) to keep the run short. ``jit_compile=False`` is what ``"auto"`` resolves to on a
CPU-only machine. Prints a markdown table and
writes ``benchmarks/results/sparse_optimizers.json``. Two rates per run: *epoch* = the
timed epoch's ratings over its wall time; *steady* = batch size over the mean step
interval of that epoch without its first step, which sometimes stalls for up to ~1 s (a
per-epoch cost that a full 1M-rating epoch amortises but a short one does not).
``--shapes/--batch-sizes/--optimizers/--no-jit`` select a subset (e.g. for ``--full``).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from recexp.training.sparse_optimizers import LazyAdam, SparseAdagrad  # noqa: E402

N_RATINGS = 1_000_000
DIM = 32
SHAPES = {"73421x100": (73_421, 100), "100kx20k": (100_000, 20_000)}
OPTIMIZERS = {
    "Adam": lambda: keras.optimizers.Adam(1e-3),
    "LazyAdam": lambda: LazyAdam(1e-3),
    "Adagrad": lambda: keras.optimizers.Adagrad(1e-2),
    "SparseAdagrad": lambda: SparseAdagrad(1e-2),
}
# Steps per timed epoch without --full: (batch size, jit_compile) -> steps. The XLA runs
# are shorter because XLA's baselines are slow (and compile time adds to the first epoch).
STEPS = {(256, False): 150, (4096, False): 25, (256, True): 60, (4096, True): 12}
BASELINE = {"LazyAdam": "Adam", "SparseAdagrad": "Adagrad"}


def biased_mf(n_users: int, n_items: int) -> keras.Model:
    u = keras.Input((1,), dtype="int32", name="user_input")
    i = keras.Input((1,), dtype="int32", name="item_input")
    flat = keras.layers.Flatten
    pu = flat()(keras.layers.Embedding(n_users, DIM, name="user_embedding")(u))
    qi = flat()(keras.layers.Embedding(n_items, DIM, name="item_embedding")(i))
    bu = flat()(keras.layers.Embedding(n_users, 1, embeddings_initializer="zeros")(u))
    bi = flat()(keras.layers.Embedding(n_items, 1, embeddings_initializer="zeros")(i))
    score = keras.layers.Add()([keras.layers.Dot(axes=1)([pu, qi]), bu, bi])
    return keras.Model({"user_input": u, "item_input": i}, score)


class EpochTimer(keras.callbacks.Callback):
    """Wall time of each epoch, and the intervals between consecutive batch ends."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []
        self.step_intervals: list[list[float]] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = self._last = time.perf_counter()
        self.step_intervals.append([])

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        self.step_intervals[-1].append(now - self._last)
        self._last = now

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)


def run_one(shape, batch_size, opt_name, jit, data, n_rows):
    n_users, n_items = SHAPES[shape]
    keras.backend.clear_session()  # drop the previous run's tables and slots
    gc.collect()
    keras.utils.set_random_seed(0)
    model = biased_mf(n_users, n_items)
    model.compile(optimizer=OPTIMIZERS[opt_name](), loss="mse", jit_compile=jit)
    users, items, y = data
    x = {"user_input": users[:n_rows], "item_input": items[:n_rows]}
    timer = EpochTimer()
    hist = model.fit(
        x, y[:n_rows], batch_size=batch_size, epochs=2, shuffle=True, verbose=0, callbacks=[timer]
    )
    seconds = timer.times[1]
    # Steady state: the mean step interval of the timed epoch without its first step,
    # which sometimes stalls (up to ~1 s here: iterator set-up, allocator, a shared VM)
    # -- a cost a full 1M-rating epoch amortises over thousands of steps.
    intervals = timer.step_intervals[1][1:]
    steady_step = float(np.mean(intervals))
    return {
        "shape": shape,
        "batch_size": batch_size,
        "optimizer": opt_name,
        "jit_compile": jit,
        "ratings_per_epoch": n_rows,
        "first_epoch_s": round(timer.times[0], 3),
        "second_epoch_s": round(seconds, 3),
        "ratings_per_s": round(n_rows / seconds),
        "first_step_ms": round(1000 * timer.step_intervals[1][0], 1),
        "steady_step_ms": round(1000 * steady_step, 3),
        "median_step_ms": round(1000 * float(np.median(intervals)), 3),
        "steady_ratings_per_s": round(batch_size / steady_step),
        "loss": float(hist.history["loss"][-1]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="epochs over all 1M ratings")
    parser.add_argument("--steps", type=int, default=0, help="steps per timed epoch")
    parser.add_argument("--no-jit", action="store_true", help="skip jit_compile=True runs")
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[256, 4096])
    parser.add_argument(
        "--optimizers", nargs="+", default=list(OPTIMIZERS), choices=list(OPTIMIZERS)
    )
    parser.add_argument(
        "--out", default=str(Path(__file__).parent / "results" / "sparse_optimizers.json")
    )
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    rows = []
    start = time.perf_counter()
    for shape in args.shapes:
        n_users, n_items = SHAPES[shape]
        data = (
            rng.integers(0, n_users, (N_RATINGS, 1), dtype=np.int32),
            rng.integers(0, n_items, (N_RATINGS, 1), dtype=np.int32),
            rng.integers(1, 6, (N_RATINGS, 1)).astype("float32"),
        )
        for batch_size in args.batch_sizes:
            for jit in (False,) if args.no_jit else (False, True):
                steps = args.steps or STEPS.get((batch_size, jit), 100)
                n_rows = N_RATINGS if args.full else min(N_RATINGS, steps * batch_size)
                for opt_name in args.optimizers:
                    r = run_one(shape, batch_size, opt_name, jit, data, n_rows)
                    rows.append(r)
                    print(
                        f"  {shape} bs={batch_size} jit={jit} {opt_name}: "
                        f"{r['ratings_per_s']:,} ratings/s ({r['second_epoch_s']:.2f} s)",
                        flush=True,
                    )
    total = time.perf_counter() - start

    by_key = {(r["shape"], r["batch_size"], r["jit_compile"], r["optimizer"]): r for r in rows}
    lines = [
        "| data (users x items) | batch | jit | baseline | ratings/s (epoch / steady) | "
        "sparse | ratings/s (epoch / steady) | speedup (epoch / steady) |",
        "|---|---:|---|---|---:|---|---:|---:|",
    ]
    for (shape, bs, jit, opt), r in by_key.items():
        if opt not in BASELINE or (shape, bs, jit, BASELINE[opt]) not in by_key:
            continue
        base = by_key[(shape, bs, jit, BASELINE[opt])]
        lines.append(
            f"| {shape} | {bs} | {jit} | {base['optimizer']} | "
            f"{base['ratings_per_s']:,} / {base['steady_ratings_per_s']:,} | {opt} | "
            f"{r['ratings_per_s']:,} / {r['steady_ratings_per_s']:,} | "
            f"{r['ratings_per_s'] / base['ratings_per_s']:.2f}x / "
            f"{r['steady_ratings_per_s'] / base['steady_ratings_per_s']:.2f}x |"
        )
    table = "\n".join(lines)
    print()
    print(table)
    print(f"\ntotal {total:.0f} s")

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "gpus": len(tf.config.list_physical_devices("GPU")),
        "n_ratings": N_RATINGS,
        "dim": DIM,
        "full_epochs": args.full,
        "timed": "second epoch",
        "total_s": round(total, 1),
    }
    out.write_text(json.dumps({"meta": meta, "runs": rows, "table": table}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
