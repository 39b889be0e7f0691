"""A study's MLflow parent run has the selected trial's params (issue 24, item 7)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from recexp.tune.study import run_tune
from tests.tune.conftest import TINY, write


def test_the_study_run_logs_the_selected_trials_params(tmp_path: Path) -> None:
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    from recexp.tracking_mlflow import resolve_uri

    store = tmp_path / "mlruns"
    spec = yaml.safe_load(TINY.read_text()) | {"tracking": {"mlflow": {"uri": str(store)}}}
    spec_path = write(tmp_path / "spec.yaml", yaml.safe_dump(spec))
    space = write(tmp_path / "grid.yaml", "model.dim: {kind: categorical, choices: [1, 6]}\n")
    study = run_tune(spec_path, space, sampler="grid", runs_root=tmp_path / "runs", quiet=True)
    record = json.loads((study.path / "study.json").read_text())
    chosen = record["best_params"]["model.dim"]

    client = MlflowClient(resolve_uri(str(store))[0])
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    trials = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(trials) == 2 and parent.info.status == "FINISHED"
    assert parent.data.params["model.dim"] == str(chosen)
    assert parent.data.params["training.max_epochs"] == str(spec["training"]["max_epochs"])
    assert "name" not in parent.data.params  # the study's own name is its run name
