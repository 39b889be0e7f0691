"""Run directories built by hand (no training): what plots, report and tracking read."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import yaml


def make_run(
    root: Path,
    name: str,
    *,
    test_rmse: float = 0.9,
    params: int = 1000,
    train_seconds: float = 2.5,
    epochs: int = 8,
    best_epoch: int = 5,
    predictions: bool = True,
    status: str = "completed",
    fingerprint: str = "a",
    seed: int = 0,
) -> Path:
    """A completed run directory under ``root/name`` with every file a run writes."""
    path = root / name
    path.mkdir(parents=True)
    config = {
        "name": name,
        "seed": seed,
        "dataset": {"name": "synthetic", "split": {"strategy": "random", "val": 0.1}},
        "model": {"family": "mf", "dim": 8, "l2": 0.05},
        "optimizer": {"name": "adam", "learning_rate": 0.001},
        "training": {"batch_size": 256, "max_epochs": epochs},
    }
    (path / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    lines = ["epoch,loss,rmse,mae,val_loss,val_rmse,val_mae,learning_rate,seconds"]
    for e in range(1, epochs + 1):
        train = test_rmse + 0.5 / e - 0.01 * e
        val = test_rmse + 0.3 / e + 0.004 * max(0, e - best_epoch)
        lines.append(
            f"{e},{train**2:.4f},{train:.4f},{train * 0.8:.4f},{val**2:.4f},{val:.4f},"
            f"{val * 0.8:.4f},0.001,0.25"
        )
    (path / "history.csv").write_text("\n".join(lines) + "\n")
    metrics = {
        "name": name,
        "dataset": "synthetic",
        "model": "mf",
        "embedding": "full",
        "optimizer": "adam lr=0.001",
        "params": params,
        "embedding_params": params - 10,
        "embedding_compression": 1.0,
        "best_epoch": best_epoch,
        "val": {"rmse": test_rmse + 0.01, "mae": 0.7},
        "test": {"rmse": test_rmse, "mae": round(test_rmse * 0.8, 4)},
        "baselines": {"global_mean_test_rmse": 1.12, "biases_test_rmse": 0.96},
        "epochs_run": epochs,
        "early_stopped": True,
        "train_seconds": train_seconds,
        "ratings_per_second": 12345.6,
        "fingerprint": {"ratings": fingerprint, "split": "s"},
        "warnings": [],
    }
    (path / "metrics.json").write_text(json.dumps(metrics, indent=2))
    if predictions:
        rng = np.random.default_rng(seed)
        n = 600
        user = rng.zipf(1.6, n) % 60
        item = rng.zipf(1.4, n) % 90
        base = np.random.default_rng(7).uniform(1, 5, n)  # same ratings in every run
        rating = np.clip(np.round(base), 1, 5).astype("float32")
        noise = rng.normal(0, test_rmse, n) * (1 + 1 / (1 + np.bincount(user, minlength=60)[user]))
        pd.DataFrame(
            {
                "user": user.astype("int64"),
                "item": item.astype("int64"),
                "rating": rating,
                "prediction": np.clip(rating + noise, 1, 5).astype("float32"),
                "fallback": np.zeros(n, bool),
            }
        ).drop_duplicates(["user", "item"]).to_parquet(path / "predictions.parquet", index=False)
    (path / "status.json").write_text(json.dumps({"status": status, "updated": "2026-01-01"}))
    return path
