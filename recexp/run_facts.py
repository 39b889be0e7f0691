"""What metrics.json records about a run besides its scores: what was trained, on what,
how long it took and how much memory it used."""

from __future__ import annotations

import os
import platform
import resource
import sys
from pathlib import Path
from typing import Any

import numpy as np

from recexp import __version__
from recexp.config import ExperimentConfig
from recexp.data import Dataset
from recexp.models.protocol import ModelSummary, Recommender
from recexp.training.events import FitResult


def run_facts(
    config: ExperimentConfig,
    data: Dataset,
    model: Recommender,
    summary: ModelSummary,
    result: FitResult,
    data_seconds: float,
) -> dict[str, Any]:
    info = summary.as_dict()
    t = config.training
    return {
        "name": config.name,
        "dataset": config.dataset.name,
        "model": config.model.family,
        "embedding": embedding_label(config) if summary.embeddings else "-",
        "optimizer": model.optimizer_label,
        "batch_size": t.batch_size,
        "params": info["params"],
        "embedding_params": info["embedding_params"],
        "embedding_bytes": info["embedding_bytes"],
        "embedding_compression": compression(summary.embeddings),
        "embedding_tables": summary.embeddings,
        "best_epoch": result.best_epoch,
        "best_monitored": result.best_value,
        "monitor": t.early_stopping.monitor if t.early_stopping else "loss",
        "epochs_run": len(result.history),
        "early_stopped": result.stopped_early,
        "interrupted": result.interrupted,
        **({"pruned": result.pruned} if result.pruned else {}),
        "train_seconds": round(result.train_seconds, 3),
        "data_seconds": round(data_seconds, 3),
        "ratings_per_second": round(result.ratings_per_second, 1),
        "peak_rss_mb": peak_rss_mb(),
        "data": data.report,
        "n_users": data.n_users,
        "n_items": data.n_items,
        "fingerprint": data.fingerprint,
    }


def peak_rss_mb() -> float:
    """This process's peak resident memory. On Linux, VmHWM of /proc/self/status: the
    ``ru_maxrss`` of a process started by ``fork`` + ``exec`` keeps its parent's peak from
    before the exec, so a run started from a big process (a benchmark, a tune worker) would
    report the parent's memory."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / 1024 if sys.platform != "darwin" else peak / 2**20, 1)


def compression(tables: list[dict[str, Any]]) -> float | None:
    """Parameters full tables of the same vocabularies and dims would take, over those stored."""
    full = sum((t["vocabulary"] or 0) * t["dim"] for t in tables)
    stored = sum(t["parameters"] for t in tables)
    return round(full / stored, 3) if full and stored else None


def embedding_label(config: ExperimentConfig) -> str:
    """``strategy`` or ``user/item``; ``mixed_dim+qr`` when mixed-dim blocks use QR rows."""

    def one(options: Any) -> str:
        compressed = max(getattr(options, "qr_compression", None) or [1]) > 1
        return f"{options.strategy}+qr" if compressed else options.strategy

    user, item = one(config.embedding.user), one(config.embedding.item)
    return user if user == item else f"{user}/{item}"


def environment(config: ExperimentConfig, data: Dataset) -> dict[str, Any]:
    """What env.json holds: versions, platform, devices, threads, seed, command, data."""
    import keras
    import pandas as pd
    import tensorflow as tf

    from recexp.provenance import git_commit
    from recexp.training.tf_start import thread_pools

    return {
        "recexp": __version__,
        "recexp_git_commit": git_commit(),
        "python": platform.python_version(),
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
        "tf_threads": thread_pools(),
        "seed": config.seed,
        "command": sys.argv,
        "cwd": os.getcwd(),
        "dataset_fingerprint": data.fingerprint,
    }
