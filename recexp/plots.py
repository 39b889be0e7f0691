"""Pictures of runs: learning curves, errors by activity, many runs on one figure.

matplotlib is imported inside the functions that draw (``recexp --help``, ``validate``,
``list`` and ``compare`` never load it), and only its object-oriented API is used
(``matplotlib.figure.Figure`` rendered by the Agg canvas): no pyplot, no global backend
switch, safe in a headless process.

- :func:`write_run_plots`: ``curves.png`` and ``errors.png`` in one run directory.
- :func:`plot_curves`: the validation RMSE of many runs by epoch, on one figure.
- :func:`plot_scatter`: test RMSE against parameters or train seconds, Pareto front marked.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recexp.errors import ConfigError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

CURVES_PNG = "curves.png"
ERRORS_PNG = "errors.png"
SCATTER_X = {"params": "parameters", "train_seconds": "train seconds"}
#: bucket edges for "ratings per user/item": [0], [1, 2], [3, 4], [5, 9], ...
COUNT_EDGES = [0, 1, 3, 5, 10, 20, 50, 100, 200, 500, 1000]
DPI = 110
TrainCounts = tuple[Mapping[Any, int], Mapping[Any, int]]


# ---------------------------------------------------------------- reading a run directory


def read_history(run_path: str | Path) -> dict[str, list[float]]:
    """history.csv as columns of floats (a value that is not a number becomes NaN)."""
    path = Path(run_path) / "history.csv"
    columns: dict[str, list[float]] = {}
    if not path.is_file():
        return columns
    with path.open(newline="") as f:
        for record in csv.DictReader(f):
            for key, text in record.items():
                if key is None:
                    continue
                try:
                    value = float(text) if text not in (None, "") else math.nan
                except ValueError:
                    value = math.nan
                columns.setdefault(key, []).append(value)
    return columns


def read_metrics(run_path: str | Path) -> dict[str, Any]:
    path = Path(run_path) / "metrics.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _finite(values: Iterable[float]) -> bool:
    return any(math.isfinite(v) for v in values)


# ---------------------------------------------------------------- figures


def _figure(width: float = 6.4, height: float = 4.0, ncols: int = 1) -> tuple[Figure, list[Axes]]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    for ax in axes:
        ax.grid(True, color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
    return fig, list(axes)


def png_bytes(fig: Figure) -> bytes:
    """``fig`` as PNG bytes (Agg)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _save(fig: Figure, out: str | Path) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp.png")
    fig.savefig(tmp, format="png", dpi=DPI)
    tmp.replace(out)  # a reader never sees half a picture
    return out


def curves_figure(run_path: str | Path) -> Figure | None:
    """Train and validation RMSE by epoch, the best epoch, the baselines; None without
    a history."""
    run_path = Path(run_path)
    history = read_history(run_path)
    metrics = read_metrics(run_path)
    epochs = history.get("epoch")
    if not epochs:
        return None
    fig, (ax,) = _figure(width=7.6)
    transformed = "rmse_transformed" in (metrics.get("test") or {})
    for key, label, color in (
        ("rmse", "train RMSE", "#1f77b4"),
        ("val_rmse", "val RMSE", "#d62728"),
    ):
        values = history.get(key)
        if values and _finite(values):
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
    fig, axes = _figure(width=9.0, height=3.8, ncols=2)
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
        ax.set_xticks(x, [f"{label}\nn={n:,}" for label, _, n in buckets], fontsize=7.5)
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
        written.append(_save(curves, run_path / CURVES_PNG))
    errors = errors_figure(run_path, train_counts)
    if errors is not None:
        written.append(_save(errors[0], run_path / ERRORS_PNG))
    return written


# ---------------------------------------------------------------- many runs


def _short(name: str, width: int = 40) -> str:
    return name if len(name) <= width else name[: width - 3] + "..."


def curves_many_figure(runs: Sequence[str | Path]) -> Figure:
    """Validation RMSE by epoch of each run (train RMSE, dashed, when a run has no
    validation part). Raises ConfigError when no run has a history."""
    fig, (ax,) = _figure(width=8.5, height=4.5)
    drawn = 0
    for run in runs:
        path = Path(run)
        history = read_history(path)
        epochs = history.get("epoch")
        if not epochs:
            continue
        values, style = history.get("val_rmse"), "-"
        if not values or not _finite(values):
            values, style = history.get("rmse"), "--"
        if not values or not _finite(values):
            continue
        label = _short(path.name) + ("" if style == "-" else " (train)")
        (line,) = ax.plot(epochs, values, style, marker="o", markersize=2.5, label=label)
        best = read_metrics(path).get("best_epoch")
        if isinstance(best, int) and 1 <= best <= len(values):
            ax.plot([best], [values[best - 1]], marker="*", markersize=10, color=line.get_color())
        drawn += 1
    if not drawn:
        raise ConfigError("no run among those given has a history.csv with RMSE values")
    ax.set_xlabel("epoch")
    ax.set_ylabel("val RMSE (training units)")
    ax.set_title("validation RMSE by epoch (* = best epoch)", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


def plot_curves(runs: Sequence[str | Path], out: str | Path) -> Path:
    """The validation RMSE curves of ``runs`` on one figure, written to ``out`` (PNG)."""
    return _save(curves_many_figure(runs), out)


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats on both coordinates (lower is better),
    in increasing x."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], points[i][1]))
    front, best_y = [], math.inf
    for i in order:
        if points[i][1] < best_y:
            front.append(i)
            best_y = points[i][1]
    return front


def scatter_figure(runs: Sequence[str | Path], x: str = "params") -> Figure:
    """Test RMSE against ``x`` (params or train_seconds) per run, Pareto front marked.
    Raises ConfigError for an unknown ``x`` or when no run has both values."""
    from recexp.compare import collect

    if x not in SCATTER_X:
        raise ConfigError(f"expected one of: {', '.join(SCATTER_X)}", key="--x", got=x)
    rows, _ = collect(runs)
    points, names = [], []
    for row in rows:
        xv, yv = row.get(x), row.get("test_rmse")
        if isinstance(xv, (int, float)) and isinstance(yv, (int, float)) and xv > 0:
            points.append((float(xv), float(yv)))
            names.append(str(row["run"]))
    if not points:
        raise ConfigError(f"no run among those given has both {x} and a test RMSE")
    fig, (ax,) = _figure(width=7.5, height=4.5)
    front = pareto_front(points)
    on_front = set(front)
    others = [p for i, p in enumerate(points) if i not in on_front]
    if others:
        ax.scatter(
            [p[0] for p in others],
            [p[1] for p in others],
            s=28,
            color="#8c8c8c",
            label="run",
            zorder=3,
        )
    fx, fy = [points[i][0] for i in front], [points[i][1] for i in front]
    ax.step(fx, fy, where="post", color="#d62728", linewidth=1.2, zorder=2)
    ax.scatter(fx, fy, s=44, color="#d62728", label="Pareto front", zorder=4)
    by_x = sorted(range(len(points)), key=lambda i: points[i])
    for rank, i in enumerate(by_x):  # neighbours' labels alternate above and below
        ax.annotate(
            _short(names[i], 28),
            points[i],
            fontsize=7,
            xytext=(5, 4 if rank % 2 == 0 else -10),
            textcoords="offset points",
        )
    xs = [p[0] for p in points]
    if max(xs) / min(xs) > 20:
        ax.set_xscale("log")
    else:
        from matplotlib.ticker import FuncFormatter

        ax.xaxis.set_major_formatter(
            FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 100 else f"{v:g}")
        )
    ax.set_xlabel("parameters (count)" if x == "params" else "train seconds (s)")
    ax.set_ylabel("test RMSE (rating units)")
    ax.set_title(f"test RMSE against {SCATTER_X[x]} (lower left is better)", fontsize=10)
    ax.legend(fontsize=8)
    ax.margins(x=0.12, y=0.1)
    return fig


def plot_scatter(runs: Sequence[str | Path], out: str | Path, x: str = "params") -> Path:
    """Test RMSE against ``x`` ("params" or "train_seconds"), written to ``out`` (PNG)."""
    return _save(scatter_figure(runs, x), out)
