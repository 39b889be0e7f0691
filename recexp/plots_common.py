"""What every picture of runs shares: reading a run directory's history.csv and
metrics.json, a blank figure, and writing it as PNG.

matplotlib is imported inside the functions that draw, and only its object-oriented API
is used (``matplotlib.figure.Figure`` rendered by the Agg canvas): no pyplot, no global
backend switch, safe in a headless process.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 110


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


def any_finite(values: Iterable[float]) -> bool:
    return any(math.isfinite(v) for v in values)


def short_name(name: str, width: int = 40) -> str:
    return name if len(name) <= width else name[: width - 3] + "..."


def new_figure(
    width: float = 6.4, height: float = 4.0, ncols: int = 1
) -> tuple[Figure, list[Axes]]:
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


def save_png(fig: Figure, out: str | Path) -> Path:
    """Write ``fig`` to ``out`` as PNG (through a temporary file); returns ``out``."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp.png")
    fig.savefig(tmp, format="png", dpi=DPI)
    tmp.replace(out)  # a reader never sees half a picture
    return out
