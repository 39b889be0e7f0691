"""recexp sweep: grid parsing, up-front validation, selection on validation RMSE."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recexp.cli import app
from recexp.errors import ConfigError
from recexp.sweep import as_overrides, combinations, parse_grid, plan

runner = CliRunner()


def test_parse_grid_comma_and_flow_lists():
    grid = parse_grid(["model.l2=0.03,0.05", "model.dim=[16, 32]", "optimizer.name=adam"])
    assert grid == {"model.l2": [0.03, 0.05], "model.dim": [16, 32], "optimizer.name": ["adam"]}
    assert combinations({"a": [1, 2], "b": ["x", "y"]}) == [
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
        plan(tiny_spec, {"model.l2": [0.1]}, ["dataset.split.val=0"])
    with pytest.raises(ConfigError, match="needs at least one --grid key"):
        plan(tiny_spec, {})


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
    assert parent.name.endswith("-tiny-sweep")
    record = json.loads((parent / "sweep.json").read_text())
    assert [t["overrides"] for t in record["trials"]] == [{"model.dim": 2}, {"model.dim": 6}]
    children = []
    for trial in record["trials"]:
        assert trial["status"] == "completed"
        metrics = json.loads((parent / trial["path"] / "metrics.json").read_text())
        assert trial["val_rmse"] == metrics["val"]["rmse"]
        assert metrics["params"] == (40 + 30) * (trial["overrides"]["model.dim"] + 1)
        children.append(metrics)
    best = min(range(2), key=lambda i: children[i]["val"]["rmse"])
    assert record["selected"] == best
    parent_metrics = json.loads((parent / "metrics.json").read_text())
    assert parent_metrics["test"] == children[best]["test"]
    assert parent_metrics["sweep"]["selected"]["index"] == best
    assert json.loads((parent / "status.json").read_text())["status"] == "completed"
    rows, problems = collect([parent])
    assert not problems and rows[0]["test_rmse"] == children[best]["test"]["rmse"]


@pytest.mark.usefixtures("interrupt_after_first_epoch")
def test_interrupt_stops_the_sweep(tiny_spec: Path, tmp_path: Path):
    from recexp.sweep import run_sweep

    with pytest.raises(KeyboardInterrupt):
        run_sweep(tiny_spec, {"model.dim": [2, 3, 4]}, runs_root=tmp_path / "runs", quiet=True)
    (parent,) = (tmp_path / "runs").iterdir()
    status = json.loads((parent / "status.json").read_text())
    assert status["status"] == "interrupted" and status["trials_completed"] == 0
    record = json.loads((parent / "sweep.json").read_text())
    assert [t["status"] for t in record["trials"]] == ["interrupted"]
    assert len(list((parent / "trials").iterdir())) == 1  # the other two never started
