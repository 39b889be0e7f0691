"""A parent run's metrics from its children's: mean and sample standard deviation of
every score over k folds or seeds (rating metrics and top-N metrics alike)."""

from __future__ import annotations

from typing import Any

import numpy as np

from recexp.run_metrics import Metrics

IDENTITY = (
    "name", "dataset", "model", "embedding", "optimizer", "batch_size",
    "params", "embedding_params", "embedding_compression", "n_users", "n_items",
)  # fmt: skip


def _mean_std(records: list[Any], key: str, std: bool = True) -> dict[str, Any]:
    """``{key: means, key_std: sample stds}`` of the children's top-N metric dicts."""
    records = [r for r in records if r]
    if not records:
        return {}
    names = [n for n in records[0] if all(n in r for r in records)]
    out = {key: {n: float(np.mean([r[n] for r in records])) for n in names}}
    if std:
        ddof = 1 if len(records) > 1 else 0
        out[f"{key}_std"] = {n: float(np.std([r[n] for r in records], ddof=ddof)) for n in names}
    return out


def aggregate(children: list[Metrics], kind: str = "folds") -> Metrics:
    """Mean and sample standard deviation of the children's scores; identity from the first."""
    dumps = [c.as_json() for c in children]
    first = dumps[0]
    out: dict[str, Any] = {k: first[k] for k in IDENTITY if k in first}
    out[kind] = len(children)
    for part in ("val", "test"):
        out[part] = {}
        for metric in ("rmse", "mae", "oracle_rmse"):
            values = [c[part][metric] for c in dumps if c[part].get(metric) is not None]
            if values and not any(np.isnan(values)):
                out[part][metric] = float(np.mean(values))
                out[part][f"{metric}_std"] = (
                    float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
                )
        out[part].update(_mean_std([c[part].get("ranking") for c in dumps], "ranking"))
    out["baselines"] = _mean_std([c["baselines"].get("popularity_test_ranking") for c in dumps],
                                 "popularity_test_ranking", std=False)  # fmt: skip
    if first.get("ranking"):
        out["ranking"] = first["ranking"]
    for key in ("global_mean_test_rmse", "biases_test_rmse"):
        values = [c["baselines"][key] for c in dumps if c.get("baselines", {}).get(key)]
        if values:
            out["baselines"][key] = float(np.mean(values))
    for key in ("ratings_per_second", "epochs_run", "best_epoch"):
        values = [c[key] for c in dumps if c.get(key) is not None]
        out[key] = float(np.mean(values)) if values else None
    out["train_seconds"] = float(sum(c.get("train_seconds") or 0 for c in dumps))
    out["fingerprint"] = {
        "ratings": first["fingerprint"]["ratings"],
        "split": f"{kind}:" + ",".join(c["fingerprint"]["split"] for c in dumps),
    }
    out[f"{kind.rstrip('s')}_metrics"] = [
        {
            "test_rmse": c["test"]["rmse"],
            "test_mae": c["test"]["mae"],
            "best_epoch": c["best_epoch"],
        }
        for c in dumps
    ]
    return Metrics.parse(out)
