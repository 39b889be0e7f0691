"""Studies that select on a top-N metric (``--metric val_ndcg@10``): maximised, read from
each trial's validation ranking, trials stopped early on it, test never looked at."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from recexp.tune.grid import grid_space
from recexp.tune.study import run_tune

EASE = Path(__file__).resolve().parents[2] / "configs" / "tiny" / "ease.yaml"
MF = Path(__file__).resolve().parents[2] / "configs" / "tiny" / "mf.yaml"
L2 = grid_space({"model.l2": [0.5, 50.0, 5000.0]})


def _read(path: Path) -> dict:  # type: ignore[type-arg]
    return json.loads(path.read_text())


def test_a_study_on_val_ndcg_selects_the_highest(tmp_path: Path) -> None:
    run = run_tune(EASE, L2, sampler="grid", pruner="none", runs_root=tmp_path, quiet=True,
                   metric="val_ndcg@10")  # fmt: skip
    record = _read(run.path / "study.json")
    assert record["monitor"] == "val_ndcg@10" and record["direction"] == "maximize"
    values = {}
    for trial in record["trials"]:
        own = _read(run.path / trial["run_dir"] / "metrics.json")["val"]["ranking"]["ndcg@10"]
        assert trial["value"] == pytest.approx(own)
        values[trial["number"]] = own
    assert record["selected"] == max(values, key=lambda n: (values[n], -n))
    assert len(set(values.values())) > 1  # the grid does reorder the lists


def test_trials_stop_early_on_the_ranking_metric(tmp_path: Path) -> None:
    space = grid_space({"optimizer.learning_rate": [0.01]})
    run = run_tune(MF, space, sampler="grid", pruner="none", runs_root=tmp_path, quiet=True,
                   metric="val_ndcg@10")  # fmt: skip
    (trial,) = (run.path / "trials").iterdir()
    assert "monitor: val_ndcg@10" in (trial / "config.yaml").read_text()
    assert "val_ndcg@10" in (trial / "history.csv").read_text().splitlines()[0]


def test_scrambled_test_users_leave_the_chosen_trial_unchanged(tmp_path: Path, monkeypatch):  # type: ignore[no-untyped-def]
    first = run_tune(EASE, L2, sampler="grid", pruner="none", runs_root=tmp_path / "a",
                     quiet=True, metric="val_ndcg@10")  # fmt: skip
    from recexp import experiment

    prepare = experiment.prepare

    def scrambled(*args, **kwargs):  # type: ignore[no-untyped-def]
        data = prepare(*args, **kwargs)  # the test part's users shuffled: other lists
        user = np.random.default_rng(0).permutation(data.test.user)
        data.test = dataclasses.replace(data.test, user=user)
        return data

    monkeypatch.setattr(experiment, "prepare", scrambled)
    second = run_tune(EASE, L2, sampler="grid", pruner="none", runs_root=tmp_path / "b",
                      quiet=True, metric="val_ndcg@10")  # fmt: skip
    a, b = _read(first.path / "study.json"), _read(second.path / "study.json")
    assert a["selected"] == b["selected"] and a["best_params"] == b["best_params"]
    assert [t["value"] for t in a["trials"]] == pytest.approx([t["value"] for t in b["trials"]])
    ta, tb = (_read(r.path / "metrics.json")["test"]["ranking"] for r in (first, second))
    assert ta["ndcg@10"] != pytest.approx(tb["ndcg@10"], abs=1e-3)  # test did change


@pytest.mark.parametrize(
    ("metric", "line"),
    [
        ("val_auc", "--metric: expected val_rmse, val_mae or a validation ranking metric"),
        ("val_ndcg@5", "--metric: @5 is not one of evaluation.ranking.k (10, 20)"),
        ("test_ndcg@10", "--metric: expected val_rmse, val_mae or a validation ranking"),
    ],
)
def test_a_metric_no_trial_reports_is_one_line(tmp_path: Path, metric: str, line: str) -> None:
    from recexp.cli import app

    result = CliRunner().invoke(
        app, ["sweep", str(EASE), "--grid", "model.l2=1,2", "--metric", metric,
              "--runs-dir", str(tmp_path / "runs")],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert line in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()
