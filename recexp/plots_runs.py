"""Many runs on one figure: validation curves by epoch (:func:`plot_curves`) and test
RMSE against parameters or train seconds with the Pareto front marked
(:func:`plot_scatter`).

matplotlib is imported inside the functions that draw.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from recexp.errors import ConfigError
from recexp.plots_common import (
    any_finite,
    new_figure,
    read_history,
    read_metrics,
    save_png,
    short_name,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SCATTER_X = {"params": "parameters", "train_seconds": "train seconds"}
#: scatter's y axis: compare's column key -> (label, lower is better)
SCATTER_Y = {
    "test_rmse": ("test RMSE (rating units)", True),
    "test_ndcg_10": ("test NDCG@10", False),
    "test_recall_20": ("test Recall@20", False),
}


def run_label(name: str, width: int = 40) -> str:
    """A run's name without its UTC timestamp (``20261203T101010Z-mf-dim64`` -> ``mf-dim64``)."""
    from recexp.run_names import without_stamp

    return short_name(without_stamp(name), width)


def curve_runs(runs: Sequence[str | Path]) -> tuple[list[tuple[Path, str]], list[str]]:
    """The history to draw for each run, ``(directory, label)``, a parent through its
    selected or first child (:mod:`recexp.run_source`); and one line per run left out,
    with the reason."""
    from recexp.run_source import source

    drawn, notes = [], []
    for run in runs:
        path = Path(run)
        if not path.is_dir():
            continue  # not a run: named by the command's "skipped" lines
        found = source(path)
        if found.path is None:
            notes.append(f"{path}: no curve: {found.missing}")
            continue
        if not read_history(found.path).get("epoch"):
            where = f" in {found.via}" if found.via else ""
            notes.append(f"{path}: no curve: no history.csv{where}")
            continue
        label = run_label(path.name)
        if found.via:
            label += f" ({run_label(found.path.name, 24)})"
        drawn.append((found.path, label))
    return drawn, notes


def curves_many_figure(runs: Sequence[str | Path], notes: list[str] | None = None) -> Figure:
    """Validation RMSE by epoch of each run (train RMSE, dashed, when a run has no
    validation part); a parent's is its selected or first child's. The runs left out
    are appended to ``notes`` with the reason. Raises ConfigError when no run has a
    history."""
    from matplotlib.ticker import MaxNLocator

    fig, (ax,) = new_figure(width=8.5, height=4.5)
    drawable, left_out = curve_runs(runs)
    drawn, units = 0, set()
    for path, label in drawable:
        history = read_history(path)
        epochs = history["epoch"]
        values, style = history.get("val_rmse"), "-"
        if not values or not any_finite(values):
            values, style = history.get("rmse"), "--"
        if not values or not any_finite(values):
            left_out.append(f"{label}: no curve: history.csv has no RMSE values")
            continue
        label += "" if style == "-" else " (train)"
        (line,) = ax.plot(epochs, values, style, marker="o", markersize=2.5, label=label)
        best = read_metrics(path).get("best_epoch")
        if isinstance(best, int) and 1 <= best <= len(values):
            ax.plot([best], [values[best - 1]], marker="*", markersize=10, color=line.get_color())
        units.add(history_units(path))
        drawn += 1
    if notes is not None:
        notes.extend(left_out)
    if not drawn:
        raise ConfigError("no run among those given has a history.csv with RMSE values")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"val RMSE ({' / '.join(sorted(units))})")
    ax.set_title("validation RMSE by epoch (* = best epoch)", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


def history_units(path: Path) -> str:
    """What history.csv's RMSE is in: rating units, unless the run trained on transformed
    ratings (``dataset.transform``)."""
    transformed = "rmse_transformed" in (read_metrics(path).get("test") or {})
    return "training units (transformed ratings)" if transformed else "rating units"


def plot_curves(
    runs: Sequence[str | Path], out: str | Path, notes: list[str] | None = None
) -> Path:
    """The validation RMSE curves of ``runs`` on one figure, written to ``out`` (PNG);
    the runs left out are appended to ``notes``."""
    return save_png(curves_many_figure(runs, notes), out)


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


def scatter_figure(runs: Sequence[str | Path], x: str = "params", y: str = "test_rmse") -> Figure:
    """``y`` (test RMSE, NDCG@10 or Recall@20) against ``x`` (params or train_seconds) per
    run, Pareto front marked. ConfigError for an unknown axis or when no run has both."""
    from recexp.compare_rows import collect

    if x not in SCATTER_X:
        raise ConfigError(f"expected one of: {', '.join(SCATTER_X)}", key="--x", got=x)
    if y not in SCATTER_Y:
        raise ConfigError(f"expected one of: {', '.join(SCATTER_Y)}", key="--y", got=y)
    label, lower = SCATTER_Y[y]
    points, names = [], []
    for row in collect(runs)[0]:
        xv, yv = row.get(x), row.get(y)
        if isinstance(xv, (int, float)) and isinstance(yv, (int, float)) and xv > 0:
            points.append((float(xv), float(yv)))
            names.append(str(row["run"]))
    if not points:
        raise ConfigError(f"no run among those given has both {x} and a {label}")
    fig, (ax,) = new_figure(width=7.5, height=4.5)
    sign = 1.0 if lower else -1.0
    front = pareto_front([(px, sign * py) for px, py in points])
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
            run_label(names[i], 28),
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
    ax.set_ylabel(label)
    better = "lower left" if lower else "upper left"
    ax.set_title(f"{label} against {SCATTER_X[x]} ({better} is better)", fontsize=10)
    ax.legend(fontsize=8)
    ax.margins(x=0.12, y=0.1)
    return fig


def plot_scatter(
    runs: Sequence[str | Path], out: str | Path, x: str = "params", y: str = "test_rmse"
) -> Path:
    """``y`` against ``x`` ("params" or "train_seconds"), written to ``out`` (PNG)."""
    return save_png(scatter_figure(runs, x, y), out)
