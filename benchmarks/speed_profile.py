"""Where one mf epoch's time goes, and the levers tried (one process, ratios within it).

    python -m benchmarks.speed_profile      # prints one JSON line (benchmarks.speed calls it)

The case is configs/speed/mf_ml25m_shape.yaml at MovieLens 1M's shape (6,040 x 3,706 x
1M ratings; batch 4096, the spec's optimizer: row-wise Adagrad since 2026-12-03, lazy Adam
before). Every piece runs the same batches (the engine's shuffled order) in one
``tf.function`` loop per epoch:

* ``inputs``: slicing the batch's codes and ratings out of the resident (shuffled) arrays;
* ``forward``: + the model's forward pass (two table gathers, two bias gathers, dot, loss);
* ``forward_backward``: + the gradients (IndexedSlices for the tables);
* ``train_step``: Keras' whole ``train_step`` (+ the optimizer's row-wise scatter updates
  and the metrics), as the engine runs it;
* ``gather_only``: the four tables' row gathers alone;
* ``unique_only``: merging the batch's repeated ids (``tf.unique``) alone;
* ``scatter_only`` / ``rewrite_only``: the batch's distinct rows (merged first) updated by
  ``scatter_sub`` (the optimizers before 2026-12-03), and rewritten whole by
  :func:`~recexp.training.sparse_optimizers.subtract_rows` (gather, subtract,
  ``scatter_update``: the optimizers since), alone.

``by_shape`` puts those pieces beside the same pieces over as many batches (240) at the 25M
shape, with the distinct users and items per batch (the rows the lazy optimizer updates);
``shape_levers`` (benchmarks/speed_shape_levers.py) the 25M / 1M ratio under each lever.

``epoch_wall`` is ``CompiledEpochs.run_epoch`` as training runs it; ``graph`` the time
inside its graph calls; the rest is Python between calls.
"""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np

from benchmarks.speed_scale import ML1M_SHAPE, SPECS


def _setup(
    overrides: list[str] = (), policy: str | None = None, shape: list[str] = ML1M_SHAPE
) -> tuple[Any, Any, Any]:
    import keras

    from recexp.config import load_spec
    from recexp.data import prepare
    from recexp.models.build import build_recommender
    from recexp.training.tf_start import set_threads

    if policy:
        keras.config.set_dtype_policy(policy)
    config = load_spec(SPECS / "mf_ml25m_shape.yaml", [*shape, *overrides])
    set_threads(config.training.threads.intra_op, config.training.threads.inter_op)
    data = prepare(config.dataset, config.seed)
    rec = build_recommender(config, data)
    if policy:
        keras.config.set_dtype_policy("float32")
    return config, data, rec


def _engine(rec: Any, train: Any, batch_size: int, **kwargs: Any) -> Any:
    from recexp.training.engine import CompiledEpochs
    from recexp.training.fit import id_inputs

    x = id_inputs(train.user, train.item)
    return CompiledEpochs(rec.model, x, train.rating, batch_size, True, 42, **kwargs)


def _epoch_seconds(engine: Any, epochs: int = 3) -> tuple[float, float]:
    """Median epoch wall seconds after the first (tracing), and the seconds inside graph calls."""
    calls: list[float] = []
    inner = engine._run_steps

    def timed(first: Any, last: Any) -> Any:
        start = time.perf_counter()
        out = inner(first, last)
        calls.append(time.perf_counter() - start)
        return out

    engine._run_steps = timed
    walls, graphs = [], []
    for _ in range(epochs):
        calls.clear()
        start = time.perf_counter()
        engine.last_logs = engine.run_epoch()
        walls.append(time.perf_counter() - start)
        graphs.append(sum(calls))
    engine._run_steps = inner
    return float(np.median(walls[1:])), float(np.median(graphs[1:]))


def _pieces(engine: Any) -> dict[str, float]:
    """Seconds per epoch of each piece (see the module docstring), after a warm-up call."""
    import tensorflow as tf

    from recexp.training.sparse_optimizers import subtract_rows

    model, bs, n, steps = engine.model, engine.batch_size, engine.n, engine.steps
    tables = [w for w in model.trainable_variables if len(w.shape) == 2]

    def batch(step: Any) -> Any:
        return engine._batch(step * bs, tf.minimum((step + 1) * bs, n))

    def inputs(x: Any, y: Any) -> Any:
        return tf.reduce_sum(y)

    def forward(x: Any, y: Any) -> Any:
        return tf.reduce_mean(tf.square(model(x, training=True) - y))

    def forward_backward(x: Any, y: Any) -> Any:
        with tf.GradientTape() as tape:
            loss = forward(x, y) + tf.add_n(model.losses)
        grads = tape.gradient(loss, [w.value for w in model.trainable_variables])
        return tf.add_n([tf.reduce_sum(g.values if hasattr(g, "values") else g) for g in grads])

    def train_step(x: Any, y: Any) -> Any:
        model.train_step((x, y))
        return tf.constant(0.0)

    def ids_of(table: Any, x: Any) -> Any:
        return tf.reshape(x["user_input" if "user" in table.path else "item_input"], [-1])

    def gather_only(x: Any, y: Any) -> Any:
        return tf.add_n([tf.reduce_sum(tf.gather(t.value, ids_of(t, x))) for t in tables])

    def distinct_rows(table: Any, x: Any) -> tuple[Any, Any]:
        rows, _ = tf.unique(ids_of(table, x))
        return rows, tf.fill([tf.shape(rows)[0], table.shape[1]], 1e-12)

    def scatter_only(x: Any, y: Any) -> Any:
        for table in tables:
            rows, update = distinct_rows(table, x)
            table.value.scatter_sub(tf.IndexedSlices(update, rows))
        return tf.constant(0.0)

    def rewrite_only(x: Any, y: Any) -> Any:
        for table in tables:
            subtract_rows(table, *distinct_rows(table, x))
        return tf.constant(0.0)

    def unique_only(x: Any, y: Any) -> Any:
        total = tf.constant(0.0)
        for table in tables:
            unique, _ = tf.unique(ids_of(table, x))
            total += tf.cast(tf.shape(unique)[0], tf.float32)
        return total

    out = {}
    for name, fn in [
        ("inputs", inputs),
        ("forward", forward),
        ("forward_backward", forward_backward),
        ("train_step", train_step),
        ("gather_only", gather_only),
        ("unique_only", unique_only),
        ("scatter_only", scatter_only),
        ("rewrite_only", rewrite_only),
    ]:

        def loop(f: Any = fn) -> Any:
            total = tf.constant(0.0)
            for step in tf.range(steps):
                x, y = batch(step)
                total += f(x, y)
            return total

        graph = tf.function(loop)
        graph()  # trace and warm up
        start = time.perf_counter()
        graph()
        out[name] = time.perf_counter() - start
    return out


def rows_per_batch(engine: Any) -> dict[str, float]:
    """Distinct users and items per batch of the engine's current order (the rows the lazy
    optimizer updates each step), averaged over its batches."""
    bs = engine.batch_size
    out = {}
    for side in ("user_input", "item_input"):
        ids = engine.x[side].numpy().reshape(-1)  # held in the shuffled order
        batches = [ids[s * bs : (s + 1) * bs] for s in range(engine.steps)]
        out[side.split("_")[0]] = float(np.mean([len(np.unique(b)) for b in batches]))
    return out


def measure(engine: Any) -> dict[str, Any]:
    """An engine's epoch time, its pieces and its distinct rows per batch."""
    wall, graph = _epoch_seconds(engine)
    return {
        "n_train": engine.n,
        "optimizer": type(engine.model.optimizer).__name__,
        "batch_size": engine.batch_size,
        "steps": engine.steps,
        "epoch_wall": wall,
        "graph": graph,
        "python": wall - graph,
        "ratings_per_second": engine.ratings_per_epoch / wall,
        "rows_per_batch": rows_per_batch(engine),
        "pieces": _pieces(engine),
    }


def profile() -> dict[str, Any]:
    """The 1M shape taken apart, its levers, and the same pieces at the 25M shape over as
    many batches (same spec, batch and thread pools): where the 25M shape's time goes."""
    config, data, rec = _setup()
    engine = _engine(rec, data.train, config.training.batch_size)
    report = measure(engine)
    report["levers"] = levers(config, data, rec)
    small = {k: v for k, v in report.items() if k != "levers"}
    del rec, engine
    big_config, big_data, big_rec = _setup(shape=[])
    big = _engine(big_rec, big_data.train, big_config.training.batch_size, max_steps=small["steps"])
    report["by_shape"] = {"1M": small, "25M": measure(big)}
    del big_rec, big
    from benchmarks.speed_shape_levers import shape_levers

    shapes = {"1M": (ML1M_SHAPE, data), "25M": ([], big_data)}
    report["shape_levers"] = shape_levers(shapes, small["steps"])
    return report


def _error(error: Exception) -> str:
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    return f"{type(error).__name__}: {(lines[-1] if lines else '')[:200]}"


def _lever_engines(config: Any, data: Any, rec: Any) -> dict[str, Any]:
    """One CompiledEpochs per lever; a lever that cannot be built maps to its error text."""
    import tensorflow as tf

    bs = config.training.batch_size
    engines: dict[str, Any] = {}
    # a fresh float32 model: its training RMSE compares with the bfloat16 ones
    engines["baseline (graph calls of ~0.25 s)"] = _engine(_setup()[2], data.train, bs)
    one = _engine(rec, data.train, bs)
    one._resize = lambda steps, seconds: None  # noqa: ARG005
    one.chunk = 1
    engines["one step per graph call"] = one
    whole = _engine(rec, data.train, bs)
    whole._resize = lambda steps, seconds: None  # noqa: ARG005
    whole.chunk = whole.steps
    engines["whole epoch in one graph call"] = whole
    xla = _engine(rec, data.train, bs)
    step = tf.function(rec.model.train_step, jit_compile=True)
    model = rec.model
    xla.model = type(
        "XlaStep",
        (),
        {
            "train_step": staticmethod(step),
            "reset_metrics": staticmethod(model.reset_metrics),
            "get_metrics_result": staticmethod(model.get_metrics_result),
        },
    )()
    engines["XLA (jit_compile) train_step"] = xla
    for policy in ("bfloat16", "mixed_bfloat16"):
        try:
            engines[f"{policy} dtype policy"] = _engine(_setup(policy=policy)[2], data.train, bs)
        except Exception as error:  # noqa: BLE001
            engines[f"{policy} dtype policy"] = _error(error)
    return engines


def levers(config: Any, data: Any, rec: Any, rounds: int = 4) -> list[dict[str, Any]]:
    """Each lever's epoch seconds, the levers interleaved round by round (the machine is
    shared: a slow spell then hits every lever alike); medians of rounds 2..``rounds``."""
    n = len(data.train)
    engines = _lever_engines(config, data, rec)
    seconds: dict[str, list[float]] = {name: [] for name in engines}
    logs: dict[str, Any] = {}
    for _ in range(rounds):
        for name, engine in engines.items():
            if isinstance(engine, str):
                continue
            try:
                start = time.perf_counter()
                logs[name] = engine.run_epoch()
                seconds[name].append(time.perf_counter() - start)
            except Exception as error:  # noqa: BLE001
                engines[name] = _error(error)
    out = []
    for name, engine in engines.items():
        if isinstance(engine, str):
            out.append({"lever": name, "error": engine})
            continue
        wall = float(np.median(seconds[name][1:]))
        rmse = logs[name].get("rmse") if name in logs else None
        dtype = str(engine.model.trainable_variables[0].dtype) if "dtype" in name else ""
        out.append(
            {
                "lever": name,
                "epoch_seconds": wall,
                "ratings_per_second": n / wall,
                f"train_rmse_after_{rounds}_epochs": rmse,
                "table_dtype": dtype,
            }
        )
    return out


if __name__ == "__main__":
    print(json.dumps(profile()))
