"""Pictures of runs: curves.png and errors.png per run, many runs on one figure."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from recexp import plots
from recexp.cli import app as cli_app
from recexp.errors import ConfigError
from tests.fake_runs import make_run


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) of a PNG file; fails unless it is one."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def sensible(path: Path) -> None:
    width, height = png_size(path)
    assert 500 <= width <= 1600 and 300 <= height <= 1000, (width, height)
    assert path.stat().st_size > 10_000  # drawn, not blank


def test_write_run_plots(tmp_path: Path):
    run = make_run(tmp_path, "mf")
    written = plots.write_run_plots(run)
    assert written == [run / "curves.png", run / "errors.png"]
    for path in written:
        sensible(path)
    assert not list(run.glob(".*tmp*"))  # written through a temporary name


def test_curves_figure_marks_best_epoch_and_baselines(tmp_path: Path):
    fig = plots.curves_figure(make_run(tmp_path, "mf", best_epoch=4))
    assert fig is not None
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [
        "train RMSE",
        "val RMSE",
        "best epoch (4)",
        "biases baseline (test) 0.9600",
        "global mean (test) 1.1200",
    ]
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "RMSE (rating units)"


def test_transformed_runs_have_no_baseline_lines(tmp_path: Path):
    import json

    run = make_run(tmp_path, "mf")
    metrics = json.loads((run / "metrics.json").read_text())
    metrics["test"]["rmse_transformed"] = 0.2
    (run / "metrics.json").write_text(json.dumps(metrics))
    fig = plots.curves_figure(run)
    assert fig is not None
    (ax,) = fig.axes
    assert not any("baseline" in t.get_text() for t in ax.get_legend().get_texts())
    assert "training units" in ax.get_ylabel()


def test_errors_by_training_counts_or_test_counts(tmp_path: Path):
    import pandas as pd

    run = make_run(tmp_path, "mf")
    frame = pd.read_parquet(run / "predictions.parquet")
    counts = ({u: 100 for u in frame["user"]}, {i: 0 for i in frame["item"]})
    made = plots.errors_figure(run, counts)
    assert made is not None
    fig, from_training = made
    assert from_training
    by_user, by_item = fig.axes
    assert by_user.get_xlabel() == "training ratings per user"
    n = len(frame)
    assert [t.get_text() for t in by_user.get_xticklabels()] == [f"100-199 (n={n:,})"]
    assert [t.get_text() for t in by_item.get_xticklabels()] == [f"0 (n={n:,})"]  # unseen
    assert by_user.get_ylabel() == "test RMSE (rating units)"

    made = plots.errors_figure(run)
    assert made is not None and not made[1]
    assert "training counts not given" in made[0].axes[0].get_xlabel()


def test_train_counts_from_raw_ids():
    users, items = plots.train_counts_from([7, 7, 3], ["a", "b", "a"])
    assert users == {3: 1, 7: 2} and items == {"a": 2, "b": 1}


def test_no_predictions_no_errors_png(tmp_path: Path):
    run = make_run(tmp_path, "mf", predictions=False)
    assert plots.write_run_plots(run) == [run / "curves.png"]


def test_many_runs_curves_and_scatter(tmp_path: Path):
    runs = [
        make_run(tmp_path, "mf", test_rmse=0.87, params=86_000),
        make_run(tmp_path, "neumf", test_rmse=0.92, params=132_000, seed=1),
        make_run(tmp_path, "qr", test_rmse=0.89, params=16_000, seed=2),
    ]
    sensible(plots.plot_curves(runs, tmp_path / "out" / "curves.png"))
    sensible(plots.plot_scatter(runs, tmp_path / "scatter.png"))
    sensible(plots.plot_scatter(runs, tmp_path / "seconds.png", x="train_seconds"))
    fig = plots.scatter_figure(runs)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["run", "Pareto front"]


def test_pareto_front():
    points = [(86.0, 0.87), (132.0, 0.92), (16.0, 0.89), (50.0, 0.95), (16.0, 0.90)]
    assert plots.pareto_front(points) == [2, 0]


def test_bad_input(tmp_path: Path):
    with pytest.raises(ConfigError, match="expected one of: params, train_seconds"):
        plots.scatter_figure([make_run(tmp_path, "mf")], x="epochs")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no run among those given has a history.csv"):
        plots.plot_curves([tmp_path / "empty"], tmp_path / "x.png")


def app() -> typer.Typer:
    """The recexp command line (``plot`` and ``report`` among its commands)."""
    return cli_app


def test_cli_plot(tmp_path: Path):
    runner = CliRunner()
    runs = [str(make_run(tmp_path, "mf")), str(make_run(tmp_path, "qr", params=10, seed=1))]
    out = tmp_path / "p.png"
    result = runner.invoke(app(), ["plot", *runs, "-o", str(out)])
    assert result.exit_code == 0, result.output
    sensible(out)
    result = runner.invoke(app(), ["plot", *runs, "-o", str(out), "--kind", "scatter"])
    assert result.exit_code == 0, result.output
    for args, line in [
        (["--kind", "pie"], "--kind: expected one of: curves, scatter (got 'pie')"),
        (["--x", "epochs"], "--x: expected one of: params, train_seconds (got 'epochs')"),
    ]:
        result = runner.invoke(app(), ["plot", *runs, "-o", str(out), *args])
        assert result.exit_code == 2 and result.output.strip() == line
    result = runner.invoke(app(), ["plot", *runs, "-o", str(tmp_path / "p.pdf")])
    assert result.exit_code == 2 and "--output: the output file must end in .png" in result.output
    result = runner.invoke(app(), ["plot", str(tmp_path / "nope"), "-o", str(out)])
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"{tmp_path / 'nope'}: skipped: not a directory",
        "no run among those given has a history.csv with RMSE values",
    ]
