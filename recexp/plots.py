"""Pictures of runs: learning curves, errors by activity, many runs on one figure.

matplotlib is imported inside the functions that draw (``recexp --help``, ``validate``,
``list`` and ``compare`` never load it), and only its object-oriented API is used
(``matplotlib.figure.Figure`` rendered by the Agg canvas): no pyplot, no global backend
switch, safe in a headless process.

- :func:`write_run_plots`: ``curves.png`` and ``errors.png`` in one run directory.
- :func:`plot_curves`: the validation RMSE of many runs by epoch, on one figure.
- :func:`plot_scatter`: test RMSE against parameters or train seconds, Pareto front marked.

This module gathers the public names; the pictures live in :mod:`recexp.plots_run` (one
run), :mod:`recexp.plots_runs` (many runs) and :mod:`recexp.plots_common` (shared).
"""

from __future__ import annotations

from recexp.plots_common import DPI, png_bytes, read_history, read_metrics
from recexp.plots_run import (
    COUNT_EDGES,
    CURVES_PNG,
    ERRORS_PNG,
    TrainCounts,
    curves_figure,
    errors_figure,
    train_counts_from,
    write_run_plots,
)
from recexp.plots_runs import (
    SCATTER_X,
    curves_many_figure,
    pareto_front,
    plot_curves,
    plot_scatter,
    scatter_figure,
)

__all__ = [
    "COUNT_EDGES",
    "CURVES_PNG",
    "DPI",
    "ERRORS_PNG",
    "SCATTER_X",
    "TrainCounts",
    "curves_figure",
    "curves_many_figure",
    "errors_figure",
    "pareto_front",
    "plot_curves",
    "plot_scatter",
    "png_bytes",
    "read_history",
    "read_metrics",
    "scatter_figure",
    "train_counts_from",
    "write_run_plots",
]
