"""``recexp train``: one spec in, one run directory out.

Order matters for the promise "bad input leaves nothing half-written": the spec is
validated, the data prepared and the model built *before* the run directory exists.
From then on the directory always says what happened: ``running``, then
``completed``, ``failed`` (with the error) or ``interrupted`` (history so far and the
best weights kept).
"""

from __future__ import annotations

import json
import os
import platform
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from recexp import __version__
from recexp.baselines import fit_biases
from recexp.config import ExperimentConfig
from recexp.data import Dataset, prepare
from recexp.display import Display
from recexp.errors import ConfigError
from recexp.evaluation import predict_part, rmse, scores
from recexp.runs import RunDir


def peak_rss_mb() -> float:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / 1024 if sys.platform != "darwin" else peak / 2**20, 1)


def environment(config: ExperimentConfig, data: Dataset) -> dict[str, Any]:
    import keras
    import pandas as pd
    import tensorflow as tf

    return {
        "recexp": __version__,
        "python": platform.python_version(),
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
        "seed": config.seed,
        "command": sys.argv,
        "cwd": os.getcwd(),
        "dataset_fingerprint": data.fingerprint,
    }


def summary_tables(model: Any) -> tuple[str, dict[str, Any]]:
    """Keras' own summary text, and the same facts as data."""
    captured: list[str] = []
    model.summary(print_fn=lambda text, *args, **kwargs: captured.append(text), line_length=100)
    layers = [
        {
            "name": layer.name,
            "class": layer.__class__.__name__,
            "output_shape": _shape(layer),
            "params": int(layer.count_params()) if layer.built else 0,
        }
        for layer in model.layers
    ]
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    total = int(model.count_params())
    info = {
        "model": model.name,
        "layers": layers,
        "params": total,
        "trainable_params": trainable,
        "non_trainable_params": total - trainable,
        "embeddings": embedding_tables(model),
    }
    info["embedding_params"] = sum(t["parameters"] for t in info["embeddings"])
    info["embedding_bytes"] = sum(t["bytes"] for t in info["embeddings"])
    return "\n".join(captured), info


def _shape(layer: Any) -> Any:
    try:
        return str(tuple(layer.output.shape))
    except (AttributeError, ValueError):
        return None


def embedding_tables(model: Any) -> list[dict[str, Any]]:
    from recexp.embeddings.report import embedding_report

    return embedding_report(model)


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Terminated()


def run_experiment(
    config: ExperimentConfig,
    runs_root: str | Path = "runs",
    quiet: bool = False,
    display: Display | None = None,
) -> RunDir:
    """Train and evaluate ``config``; returns the run directory, whatever the outcome."""
    display = display or Display(quiet=quiet)
    t0 = time.perf_counter()
    data = prepare(config.dataset, config.seed)
    t_data = time.perf_counter() - t0

    from recexp.tfinit import import_tensorflow

    import_tensorflow()  # before anything else imports it: without its start-up noise
    from recexp import training  # heavy: Keras and TensorFlow
    from recexp.models.baselines import BaselineModel

    training.check_training_data(config, data)
    model = training.build_model(config, data)
    baseline = isinstance(model, BaselineModel)
    if baseline:
        summary_text = model.summary_text()
        summary = {
            "model": model.name,
            "layers": [],
            "params": model.count_params(),
            "trainable_params": model.count_params(),
            "non_trainable_params": 0,
            "embeddings": [],
            "embedding_params": 0,
            "embedding_bytes": 0,
        }
    else:
        training.compile_model(model, config, len(data.train))
        summary_text, summary = summary_tables(model)

    run = RunDir.create(runs_root, config.name)
    run.set_status("running", pid=os.getpid())
    display.message(f"run directory: {run.path}")
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        run.write_text("config.yaml", yaml.safe_dump(config.resolved(), sort_keys=False))
        run.write_text("summary.txt", summary_text + "\n")
        run.write_json("summary.json", summary)
        run.write_json("env.json", environment(config, data))
        if baseline:
            result = training.fit_baseline(model, config, data, run.path / "history.csv", display)
        else:
            result = training.fit(model, config, data, run.path / "history.csv", display)
        metrics = evaluate(model, config, data, run, result, summary, t_data)
        _save_model(model, run)
        if result.interrupted:
            run.set_status(
                "interrupted",
                reason="stopped by signal; best weights kept",
                epochs=len(result.history),
            )
            display.message(
                f"[yellow]interrupted[/] after {len(result.history)} epochs: {run.path}"
            )
        else:
            run.set_status("completed", seconds=round(time.perf_counter() - t0, 2))
            baselines = metrics["baselines"]
            display.message(
                f"test RMSE {metrics['test']['rmse']:.4f}  MAE {metrics['test']['mae']:.4f}  "
                f"(global mean {baselines['global_mean_test_rmse']:.4f}, "
                f"biases {baselines['biases_test_rmse']:.4f})  -> {run.path}"
            )
            for warning in metrics["warnings"]:
                display.message(f"[yellow]warning:[/] {warning}")
    except BaseException as error:
        message = str(error) or error.__class__.__name__
        state = "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"
        run.set_status(
            state,
            error=message,
            error_type=error.__class__.__name__,
            traceback=traceback.format_exc(limit=20),
        )
        if hasattr(error, "file") and getattr(error, "file", None) is None:
            error.file = str(run.path)  # type: ignore[attr-defined]
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
    return run


def _save_model(model: Any, run: RunDir) -> None:
    from recexp.models.baselines import BaselineModel

    tmp, target = run.temp_path("model.npz" if isinstance(model, BaselineModel) else "model.keras")
    model.save(tmp)
    os.replace(tmp, target)


def evaluate(
    model: Any,
    config: ExperimentConfig,
    data: Dataset,
    run: RunDir,
    result: Any,
    summary: dict[str, Any],
    data_seconds: float,
) -> dict[str, Any]:
    """Score val and test in rating units, write predictions.parquet and metrics.json."""
    import pandas as pd

    from recexp.training import predict_fn

    t = config.training
    fallback = fit_biases(
        data.train.user, data.train.item, data.train.rating, data.n_users, data.n_items
    )
    predict = predict_fn(model, t.eval_batch_size)
    if not hasattr(model, "optimizer"):  # a numpy baseline
        predict = model.predict
    t_eval = time.perf_counter()
    val_pred = predict_part(predict, data, data.val, fallback, t.clip_predictions)
    test_pred = predict_part(predict, data, data.test, fallback, t.clip_predictions)
    eval_seconds = time.perf_counter() - t_eval

    test = data.test
    frame = pd.DataFrame(
        {
            "user": data.ratings.frame["user"].to_numpy()[test.rows],
            "item": data.ratings.frame["item"].to_numpy()[test.rows],
            "rating": test.rating,
            "prediction": test_pred,
            "fallback": ~test.known,
        }
    )
    tmp, target = run.temp_path("predictions.parquet")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, target)

    mean_pred = np.full(len(test), data.global_mean, np.float32)
    metrics = {
        "name": config.name,
        "dataset": config.dataset.name,
        "model": config.model.family,
        "embedding": _embedding_label(config) if summary["embeddings"] else "-",
        "optimizer": (
            f"{config.optimizer.name} lr={config.optimizer.learning_rate:g}"
            if hasattr(model, "optimizer")
            else "closed form"
        ),
        "batch_size": t.batch_size,
        "params": summary["params"],
        "embedding_params": summary["embedding_params"],
        "embedding_bytes": summary["embedding_bytes"],
        "embedding_compression": _compression(summary["embeddings"]),
        "embedding_tables": summary["embeddings"],
        "val": scores(data, data.val, val_pred),
        "test": scores(data, test, test_pred),
        "baselines": {
            "global_mean_test_rmse": rmse(test.rating, mean_pred),
            "biases_test_rmse": rmse(
                test.rating, data.scale.clip(fallback.predict(test.user, test.item))
            ),
        },
        "best_epoch": result.best_epoch,
        "best_monitored": result.best_value,
        "monitor": t.early_stopping.monitor if t.early_stopping else "loss",
        "epochs_run": len(result.history),
        "early_stopped": result.stopped_early,
        "interrupted": result.interrupted,
        "train_seconds": round(result.train_seconds, 3),
        "data_seconds": round(data_seconds, 3),
        "eval_seconds": round(eval_seconds, 3),
        "ratings_per_second": round(result.ratings_per_second, 1),
        "peak_rss_mb": peak_rss_mb(),
        "data": data.report,
        "n_users": data.n_users,
        "n_items": data.n_items,
        "fingerprint": data.fingerprint,
    }
    retrieval = _retrieval(model, config, data)
    if retrieval:
        metrics["retrieval"] = retrieval
    warning = no_better_than_biases(config, metrics)
    metrics["warnings"] = [warning] if warning else []
    run.write_json("metrics.json", metrics)
    return metrics


def _retrieval(model: Any, config: ExperimentConfig, data: Dataset) -> dict[str, Any] | None:
    """Top-k retrieval metrics on the test set, for models with query and candidate towers."""
    from recexp.models.two_tower import QUERY_TOWER, retrieval_metrics

    names = {layer.name for layer in getattr(model, "layers", [])}
    if QUERY_TOWER not in names:
        return None
    test = data.test
    known = test.known
    k = getattr(config.model, "retrieval_k", 100)
    threshold = getattr(config.model, "relevant_rating", None) or data.scale.max
    return retrieval_metrics(
        model,
        test.user[known],
        test.item[known],
        test.rating[known],
        data.n_items,
        k=k,
        threshold=threshold,
    )


def _compression(tables: list[dict[str, Any]]) -> float | None:
    """Parameters full tables of the same vocabularies and dims would take, over those stored."""
    full = sum((t["vocabulary"] or 0) * t["dim"] for t in tables)
    stored = sum(t["parameters"] for t in tables)
    return round(full / stored, 3) if full and stored else None


def _embedding_label(config: ExperimentConfig) -> str:
    """``strategy`` or ``user/item``; ``mixed_dim+qr`` when mixed-dim blocks use QR rows."""

    def one(options: Any) -> str:
        compressed = max(getattr(options, "qr_compression", None) or [1]) > 1
        return f"{options.strategy}+qr" if compressed else options.strategy

    user, item = one(config.embedding.user), one(config.embedding.item)
    return user if user == item else f"{user}/{item}"


BIAS_MODELS = ("global_mean", "biases")


BIASES_MARGIN = 0.005  # a learned model should beat the closed-form biases by more than this


def no_better_than_biases(config: ExperimentConfig, metrics: dict[str, Any]) -> str | None:
    """A warning when a learned model's test RMSE is within 0.5% of the closed-form biases'.

    Such a model has learned nothing beyond per-user and per-item offsets (over-strong
    regularisation, a collapsed embedding, too few epochs); its number says so quietly,
    so the run says it out loud.
    """
    test, floor = metrics["test"].get("rmse"), metrics["baselines"].get("biases_test_rmse")
    if config.model.family in BIAS_MODELS or test is None or floor is None:
        return None
    if test < floor * (1 - BIASES_MARGIN):
        return None
    return (
        f"test RMSE {test:.4f} is within {BIASES_MARGIN:.1%} of the per-user/per-item biases "
        f"baseline ({floor:.4f}) or worse: the model adds (almost) nothing to the biases"
    )


def load_metrics(run: RunDir) -> dict[str, Any]:
    return json.loads((run.path / "metrics.json").read_text())


def run_cross_validation(
    config: ExperimentConfig, runs_root: str | Path = "runs", quiet: bool = False
) -> RunDir:
    """``split.folds: K``: one run per fold under a parent run whose metrics are mean ± std.

    The parent directory holds config.yaml, status.json and metrics.json (``rmse`` and
    ``mae`` are fold means, ``rmse_std`` / ``mae_std`` the sample standard deviations);
    each fold is a complete run directory in ``folds/``.
    """
    from recexp.data import fold_splits

    children = []
    for i, split in enumerate(fold_splits(config.dataset.split)):
        dataset = config.dataset.model_copy(update={"split": split})
        children.append(
            config.model_copy(update={"dataset": dataset, "name": f"{config.name}-fold{i}"})
        )
    return _run_repeats(config, children, "folds", runs_root, quiet)


def run_seeds(
    config: ExperimentConfig,
    seeds: list[int],
    runs_root: str | Path = "runs",
    quiet: bool = False,
) -> RunDir:
    """The same spec once per seed (each a new split and new initial weights), under a
    parent run whose metrics are mean ± std over the seeds, as for k folds.

    The spread says how much of a difference between two specs the seed alone can make.
    """
    if len(set(seeds)) != len(seeds) or len(seeds) < 2:
        raise ConfigError("give at least two distinct seeds", key="--seeds", got=seeds)
    if getattr(config.dataset.split, "folds", None):
        raise ConfigError("repeat seeds or k folds, not both", key="dataset.split.folds", got=seeds)
    children = [
        config.model_copy(update={"seed": seed, "name": f"{config.name}-seed{seed}"})
        for seed in seeds
    ]
    return _run_repeats(config, children, "seeds", runs_root, quiet)


def _run_repeats(
    config: ExperimentConfig,
    children: list[ExperimentConfig],
    kind: str,
    runs_root: str | Path,
    quiet: bool,
) -> RunDir:
    """Run ``children`` into ``<parent>/<kind>/`` and aggregate them (folds or seeds)."""
    parent = RunDir.create(runs_root, config.name)
    parent.set_status("running", **{kind: len(children)})
    parent.write_text("config.yaml", yaml.safe_dump(config.resolved(), sort_keys=False))
    display = Display(quiet=quiet)
    singular = kind.rstrip("s")
    done: list[dict[str, Any]] = []
    try:
        for i, child in enumerate(children):
            display.message(f"{singular} {i + 1}/{len(children)}")
            run = run_experiment(child, parent.path / kind, display=display)
            metrics = load_metrics(run)
            if metrics.get("interrupted"):  # Ctrl-C / SIGTERM stops the remaining ones too
                raise KeyboardInterrupt
            done.append(metrics)
    except BaseException as error:
        state = "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"
        parent.set_status(
            state,
            error=str(error) or error.__class__.__name__,
            **{f"{kind}_completed": len(done)},
        )
        raise
    metrics = aggregate_folds(done, kind)
    if kind == "seeds":
        metrics["seeds"] = [c.seed for c in children]
    parent.write_json("metrics.json", metrics)
    parent.set_status("completed", **{kind: len(done)})
    display.message(
        f"{len(done)} {kind}: test RMSE {metrics['test']['rmse']:.4f} ± "
        f"{metrics['test']['rmse_std']:.4f}  -> {parent.path}"
    )
    return parent


def aggregate_folds(children: list[dict[str, Any]], kind: str = "folds") -> dict[str, Any]:
    """Mean and sample standard deviation of each run's scores (folds or seeds); identity
    from the first."""
    first = children[0]
    out: dict[str, Any] = {
        k: first[k]
        for k in (
            "name",
            "dataset",
            "model",
            "embedding",
            "optimizer",
            "batch_size",
            "params",
            "embedding_params",
            "embedding_compression",
            "n_users",
            "n_items",
        )
        if k in first
    }
    out[kind] = len(children)
    for part in ("val", "test"):
        out[part] = {}
        for metric in ("rmse", "mae", "oracle_rmse"):
            values = [c[part][metric] for c in children if c[part].get(metric) is not None]
            if values and not any(np.isnan(values)):
                out[part][metric] = float(np.mean(values))
                out[part][f"{metric}_std"] = (
                    float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
                )
    out["baselines"] = {}
    for key in ("global_mean_test_rmse", "biases_test_rmse"):
        values = [c["baselines"][key] for c in children if key in c.get("baselines", {})]
        if values:
            out["baselines"][key] = float(np.mean(values))
    for key in ("train_seconds", "ratings_per_second", "epochs_run", "best_epoch"):
        values = [c[key] for c in children if c.get(key) is not None]
        out[key] = float(np.mean(values)) if values else None
    out["train_seconds"] = float(sum(c["train_seconds"] for c in children))
    out["fingerprint"] = {
        "ratings": first["fingerprint"]["ratings"],
        "split": f"{kind}:" + ",".join(c["fingerprint"]["split"] for c in children),
    }
    out[f"{kind.rstrip('s')}_metrics"] = [
        {
            "test_rmse": c["test"]["rmse"],
            "test_mae": c["test"]["mae"],
            "best_epoch": c["best_epoch"],
        }
        for c in children
    ]
    return out
