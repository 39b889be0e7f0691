"""compare's top-N columns: NDCG@10 and Recall@20 read from metrics.json, sorted best
first, "n/a" for the RMSE of a family that predicts no rating, and --stats pairing the
runs' per-user NDCG@10 (ranking.parquet) with a bootstrap interval."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from recexp.cli import app
from recexp.compare_rows import collect, sort_rows
from recexp.compare_stats import paired_ndcg
from tests.fake_runs import make_run

runner = CliRunner()


def with_ranking(path: Path, ndcg: list[float], recall: float, rates: bool = True) -> Path:
    """Give a hand-made run top-N metrics: these users' NDCG@10 (users 0..n-1)."""
    m = json.loads((path / "metrics.json").read_text())
    m["test"]["ranking"] = {"ndcg@10": sum(ndcg) / len(ndcg), "recall@20": recall}
    m["baselines"]["popularity_test_ranking"] = {"ndcg@10": 0.2}
    m["predicts_ratings"] = rates
    if not rates:
        m["test"].pop("rmse")
        m["test"].pop("mae")
    (path / "metrics.json").write_text(json.dumps(m))
    pd.DataFrame({"user": range(len(ndcg)), "ndcg@10": ndcg}).to_parquet(path / "ranking.parquet")
    return path


@pytest.fixture
def runs(tmp_path: Path) -> list[Path]:
    return [
        with_ranking(make_run(tmp_path, "mf", test_rmse=0.90), [0.1, 0.2, 0.3, 0.0], 0.15),
        with_ranking(
            make_run(tmp_path, "ease", predictions=False), [0.5, 0.4, 0.6, 0.3], 0.5, rates=False
        ),
    ]


def test_columns_read_the_ranking_and_sort_best_first(runs):
    rows, problems = collect(runs)
    assert not problems
    by_name = {r["run"]: r for r in rows}
    assert by_name["mf"]["test_ndcg_10"] == pytest.approx(0.15)
    assert by_name["ease"]["test_recall_20"] == 0.5
    assert by_name["ease"]["vs_popular"] == pytest.approx(0.45 / 0.2 - 1)
    assert [r["run"] for r in sort_rows(rows, "test_ndcg_10")] == ["ease", "mf"]
    assert [r["run"] for r in sort_rows(rows, "test_rmse")] == ["mf", "ease"]  # missing last


def test_markdown_shows_na_for_the_rmse_of_a_ranking_family(runs):
    result = runner.invoke(app, ["compare", *map(str, runs), "--format", "markdown"])
    assert result.exit_code == 0, result.output
    header = result.output.splitlines()[0].split("|")
    ease = next(line for line in result.output.splitlines() if "ease" in line).split("|")
    cells = dict(zip([h.strip() for h in header], [c.strip() for c in ease], strict=False))
    assert cells["test RMSE"] == "n/a" and cells["test NDCG@10"] == "0.4500"
    assert cells["test Recall@20"] == "0.5000"


def test_stats_pairs_per_user_ndcg(runs):
    rows, _ = collect(runs)
    paired_ndcg(rows, "mf", resamples=200)
    ease = next(r for r in rows if r["run"] == "ease")
    # by hand: per user differences 0.4, 0.2, 0.3, 0.3 -> mean 0.3, every resample > 0
    assert ease["d_ndcg"] == pytest.approx(0.3)
    low, high = ease["d_ndcg_ci"]
    assert 0.2 <= low <= 0.3 <= high <= 0.4
    mf = next(r for r in rows if r["run"] == "mf")
    assert mf["d_ndcg"] == 0.0 and mf["d_ndcg_ci"] is None


def test_scatter_draws_ndcg_with_higher_as_better(runs, tmp_path: Path):
    from recexp.plots_runs import scatter_figure

    fig = scatter_figure(runs, "params", "test_ndcg_10")
    ax = fig.axes[0]
    assert ax.get_ylabel() == "test NDCG@10" and "upper left is better" in ax.get_title()
    # both runs have 1000 params: the front is the higher NDCG@10 (ease, 0.45) alone
    (front,) = [c for c in ax.collections if c.get_label() == "Pareto front"]
    assert front.get_offsets().tolist() == [[1000.0, pytest.approx(0.45)]]
    result = runner.invoke(app, ["plot", *map(str, runs), "-o", str(tmp_path / "p.png"),
                                 "--kind", "scatter", "--y", "test_auc"])  # fmt: skip
    assert result.exit_code == 2 and "--y: expected one of: test_rmse" in result.output
