"""recexp sweep: grid parsing, up-front validation, selection on validation RMSE. A sweep
is a study with the grid sampler and no pruner (tests/tune/ covers studies at large)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recexp.cli import app
from recexp.errors import ConfigError
from recexp.tune.grid import grid_space, parse_grid, run_sweep
from recexp.tune.points import as_overrides

runner = CliRunner()


def test_parse_grid_comma_and_flow_lists():
    grid = parse_grid(["model.l2=0.03,0.05", "model.dim=[16, 32]", "optimizer.name=adam"])
    assert grid == {"model.l2": [0.03, 0.05], "model.dim": [16, 32], "optimizer.name": ["adam"]}
    assert grid_space({"a": [1, 2], "b": ["x", "y"]}).grid_points() == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 2, "b": "x"},
        {"a": 2, "b": "y"},
    ]
    assert as_overrides({"model.layers": [8, 4], "name": "t"}) == [
        "model.layers=[8, 4]",
        'name="t"',
    ]


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("model.l2", "--grid: grid entries look like dotted.key=v1,v2"),
        ("model.l2=", "--grid: grid entries look like dotted.key=v1,v2"),
        ("model.l2=[]", "--grid model.l2: needs at least one value (got '[]')"),
        ("model.l2=[0.1", "--grid model.l2: values are not valid YAML (got '[0.1')"),
    ],
)
def test_parse_grid_errors(item, message):
    with pytest.raises(ConfigError) as err:
        parse_grid([item])
    assert str(err.value).startswith(message)
    with pytest.raises(ConfigError, match="key given twice"):
        parse_grid(["a=1", "a=2"])


def test_every_trial_is_validated_before_anything_runs(tiny_spec: Path, tmp_path: Path):
    # the bad value is in the last combination: nothing may be written
    result = runner.invoke(
        app,
        ["sweep", str(tiny_spec), "--grid", "model.l2=0.01,-1", "--runs-dir", str(tmp_path / "r")],
    )
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"{tiny_spec}: model.l2: input should be greater than or equal to 0 (got -1)"
    )
    assert not (tmp_path / "r").exists()
    with pytest.raises(ConfigError, match="the split has no validation part"):
        run_sweep(tiny_spec, {"model.l2": [0.1]}, ["dataset.split.val=0"], tmp_path / "r")
    with pytest.raises(ConfigError, match="needs at least one --grid key"):
        run_sweep(tiny_spec, {}, runs_root=tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_sweep_selects_the_lowest_validation_rmse(tiny_spec: Path, tmp_path: Path):
    from recexp.compare import collect

    result = runner.invoke(
        app,
        [
            "sweep",
            str(tiny_spec),
            "--grid",
            "model.dim=2,6",
            "--set",
            "training.max_epochs=1",
            "--runs-dir",
            str(tmp_path / "runs"),
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    (parent,) = (tmp_path / "runs").iterdir()
    assert parent.name.endswith("-tiny-epochs1-sweep")  # named after its --set too
    record = json.loads((parent / "study.json").read_text())
    assert record["sampler"] == "grid" and record["pruner"] == "none"
    assert [t["params"] for t in record["trials"]] == [{"model.dim": 2}, {"model.dim": 6}]
    children = []
    for trial in record["trials"]:
        assert trial["state"] == "complete"
        metrics = json.loads((parent / trial["run_dir"] / "metrics.json").read_text())
        assert trial["value"] == metrics["val"]["rmse"]
        assert metrics["params"] == (40 + 30) * (trial["params"]["model.dim"] + 1)
        children.append(metrics)
    best = min(range(2), key=lambda i: children[i]["val"]["rmse"])
    assert record["selected"] == best
    parent_metrics = json.loads((parent / "metrics.json").read_text())
    assert parent_metrics["test"] == children[best]["test"]
    assert parent_metrics["tune"]["selected"]["number"] == best
    assert json.loads((parent / "status.json").read_text())["status"] == "completed"
    rows, problems = collect([parent])
    assert not problems and rows[0]["test_rmse"] == children[best]["test"]["rmse"]
    rows, problems = collect(sorted((parent / "trials").iterdir()))  # compare SWEEP/trials/*
    assert not problems and [r["test_rmse"] for r in rows] == [c["test"]["rmse"] for c in children]


def test_interrupt_stops_the_sweep_and_resume_runs_the_rest(
    tiny_spec: Path, tmp_path: Path, interrupt_after_first_epoch: None, monkeypatch
):
    from recexp.tune.study import resume_tune

    with pytest.raises(KeyboardInterrupt):
        run_sweep(tiny_spec, {"model.dim": [2, 3, 4]}, runs_root=tmp_path / "runs", quiet=True)
    (parent,) = (tmp_path / "runs").iterdir()
    status = json.loads((parent / "status.json").read_text())
    assert status["status"] == "interrupted" and status["trials_completed"] == 0
    record = json.loads((parent / "study.json").read_text())
    assert [t["state"] for t in record["trials"]] == ["interrupted"]
    assert len(list((parent / "trials").iterdir())) == 1  # the other two never started

    monkeypatch.undo()  # no more Ctrl-C: the interrupted point and the other two run
    resume_tune(parent, quiet=True)
    record = json.loads((parent / "study.json").read_text())
    done = [t["params"]["model.dim"] for t in record["trials"] if t["state"] == "complete"]
    assert sorted(done) == [2, 3, 4] and record["counts"]["interrupted"] == 1
    assert json.loads((parent / "status.json").read_text())["status"] == "completed"
