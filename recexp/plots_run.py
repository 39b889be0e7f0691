"""Pictures of one run, written into its directory: ``curves.png`` (learning curves,
best epoch, baselines) and ``errors.png`` (test RMSE by the user's and the item's
number of ratings).

matplotlib, numpy and pandas are imported inside the functions that draw.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recexp.plots_common import any_finite, new_figure, read_history, read_metrics, save_png

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CURVES_PNG = "curves.png"
ERRORS_PNG = "errors.png"
#: bucket edges for "ratings per user/item": [0], [1, 2], [3, 4], [5, 9], ...
COUNT_EDGES = [0, 1, 3, 5, 10, 20, 50, 100, 200, 500, 1000]
TrainCounts = tuple[Mapping[Any, int], Mapping[Any, int]]


def curves_figure(run_path: str | Path) -> Figure | None:
    """Train and validation RMSE by epoch, the best epoch, the baselines; None without
    a history."""
    run_path = Path(run_path)
    history = read_history(run_path)
    metrics = read_metrics(run_path)
    epochs = history.get("epoch")
    if not epochs:
        return None
    fig, (ax,) = new_figure(width=7.6)
    transformed = "rmse_transformed" in (metrics.get("test") or {})
    for key, label, color in (
        ("rmse", "train RMSE", "#1f77b4"),
        ("val_rmse", "val RMSE", "#d62728"),
    ):
        values = history.get(key)
        if values and any_finite(values):
            ax.plot(
                epochs, values, marker="o", markersize=3, linewidth=1.6, label=label, color=color
            )
    best = metrics.get("best_epoch")
    if isinstance(best, (int, float)) and not isinstance(best, bool):
        ax.axvline(
            best, color="#2ca02c", linestyle=":", linewidth=1.4, label=f"best epoch ({best})"
        )
    baselines = metrics.get("baselines") or {}
    if not transformed:  # history and baselines in the same (rating) units
        for key, label, color in (
            ("biases_test_rmse", "biases baseline (test)", "#7f7f7f"),
            ("global_mean_test_rmse", "global mean (test)", "#bcbd22"),
        ):
            value = baselines.get(key)
            if isinstance(value, (int, float)) and math.isfinite(value):
                ax.axhline(
                    value, color=color, linestyle="--", linewidth=1.2, label=f"{label} {value:.4f}"
                )
    ax.set_xlabel("epoch")
    units = "training units (transformed ratings)" if transformed else "rating units"
    ax.set_ylabel(f"RMSE ({units})")
    ax.set_title(f"{run_path.name}: RMSE by epoch", fontsize=10)
    if len(epochs) < 15:
        ax.set_xticks([int(e) for e in epochs if math.isfinite(e)])
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


def _bucket_labels(edges: Sequence[int]) -> list[str]:
    labels = []
    for low, high in zip(edges, [*edges[1:], None], strict=False):
        if high is None:
            labels.append(f"{low}+")
        elif high - low == 1:
            labels.append(str(low))
        else:
            labels.append(f"{low}-{high - 1}")
    return labels


def _by_bucket(counts: Any, sq_error: Any) -> list[tuple[str, float, int]]:
    """(bucket label, RMSE, ratings) per count bucket that holds test ratings."""
    import numpy as np

    edges = COUNT_EDGES
    index = np.searchsorted(np.asarray(edges), counts, side="right") - 1
    out = []
    for i, label in enumerate(_bucket_labels(edges)):
        mask = index == i
        n = int(mask.sum())
        if n:
            out.append((label, float(np.sqrt(sq_error[mask].mean())), n))
    return out


def errors_figure(
    run_path: str | Path, train_counts: TrainCounts | None = None
) -> tuple[Figure, bool] | None:
    """Test RMSE by the user's and by the item's number of ratings; None without
    predictions.parquet. The flag says whether the counts are training counts (else
    the counts are of the test set itself)."""
    import numpy as np
    import pandas as pd

    run_path = Path(run_path)
    path = run_path / "predictions.parquet"
    if not path.is_file():
        return None
    frame = pd.read_parquet(path, columns=["user", "item", "rating", "prediction"])
    if frame.empty:
        return None
    sq_error = (frame["rating"].to_numpy("float64") - frame["prediction"].to_numpy("float64")) ** 2
    overall = float(np.sqrt(sq_error.mean()))
    fig, axes = new_figure(width=9.0, height=3.8, ncols=2)
    for ax, column, side in zip(axes, ("user", "item"), ("user", "item"), strict=False):
        if train_counts is not None:
            table = train_counts[0 if side == "user" else 1]
            counts = frame[column].map(lambda key, t=table: t.get(key, 0)).to_numpy("int64")
            xlabel = f"training ratings per {side}"
        else:
            counts = frame[column].map(frame[column].value_counts()).to_numpy("int64")
            xlabel = f"test ratings per {side} (training counts not given)"
        buckets = _by_bucket(counts, sq_error)
        x = np.arange(len(buckets))
        ax.plot(x, [b[1] for b in buckets], marker="o", color="#4c72b0", linewidth=1.6)
        ax.axhline(overall, color="#d62728", linestyle="--", linewidth=1.2)
        # upright: an item axis has up to a dozen buckets, whose labels overlap level
        ax.set_xticks(x, [f"{label} (n={n:,})" for label, _, n in buckets], fontsize=7.5)
        ax.tick_params(axis="x", labelrotation=90)
        ax.set_xlim(-0.5, len(buckets) - 0.5)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("test RMSE (rating units)")
        ax.set_title(f"by {side} (dashed: all test ratings, {overall:.4f})", fontsize=9)
        ax.margins(y=0.15)
    fig.suptitle(f"{run_path.name}: where the model is weak", fontsize=10)
    return fig, train_counts is not None


def train_counts_from(user: Any, item: Any) -> tuple[dict[Any, int], dict[Any, int]]:
    """``train_counts`` for :func:`write_run_plots`: ratings per raw user id and per raw
    item id, from the training rows' raw ids (the ids predictions.parquet holds)."""
    import numpy as np

    out: list[dict[Any, int]] = []
    for ids in (user, item):
        keys, counts = np.unique(np.asarray(ids), return_counts=True)
        out.append(dict(zip(keys.tolist(), counts.tolist(), strict=False)))
    return out[0], out[1]


def write_run_plots(run_path: str | Path, train_counts: TrainCounts | None = None) -> list[Path]:
    """Write ``curves.png`` (needs history.csv) and ``errors.png`` (needs
    predictions.parquet) into ``run_path``; returns the files written.

    ``train_counts`` is ``(ratings per user id, ratings per item id)`` on the training
    set, keyed by the raw ids of predictions.parquet (see :func:`train_counts_from`);
    without it, errors.png buckets by each id's count in the test set itself and says so.
    """
    run_path = Path(run_path)
    written = []
    curves = curves_figure(run_path)
    if curves is not None:
        written.append(save_png(curves, run_path / CURVES_PNG))
    errors = errors_figure(run_path, train_counts)
    if errors is not None:
        written.append(save_png(errors[0], run_path / ERRORS_PNG))
    return written
