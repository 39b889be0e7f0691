"""A study under a relative ``--runs-dir`` (the default ``runs``), and ``--resume`` after a
crash that came between a trial's end and Optuna being told of it (issue 24, item 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recexp.tune import trial as trial_module
from recexp.tune.study import resume_tune, run_tune
from tests.tune.conftest import TINY, write

GRID = "model.dim: {kind: categorical, choices: [2, 4]}\n"


def _read(path: Path) -> dict:  # type: ignore[type-arg]
    return json.loads(path.read_text())


def test_a_sweep_under_a_relative_runs_dir_runs_every_trial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    space = write(tmp_path / "grid.yaml", GRID)
    run = run_tune(TINY, space, sampler="grid", runs_root="runs", quiet=True, kind="sweep")
    assert run.path.is_absolute() and run.path.parent == tmp_path / "runs"
    record = _read(run.path / "study.json")
    assert record["counts"]["complete"] == 2
    assert [t["run_dir"].split("/")[0] for t in record["trials"]] == ["trials", "trials"]
    assert _read(run.path / "status.json")["status"] == "completed"


def test_resume_keeps_a_trial_that_finished_before_the_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old crash: trial 0's run completed, then telling Optuna raised; the study is
    left failed with trial 0 running in Optuna. --resume must record trial 0 as the
    complete trial it is, not mark it interrupted and train it again."""
    space = write(tmp_path / "grid.yaml", GRID)
    real = trial_module.tell_from_run

    def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ValueError("is not in the subpath of")

    monkeypatch.setattr(trial_module, "tell_from_run", crash)
    with pytest.raises(ValueError):
        run_tune(TINY, space, sampler="grid", runs_root=tmp_path / "runs", quiet=True)
    monkeypatch.setattr(trial_module, "tell_from_run", real)
    (study,) = (tmp_path / "runs").iterdir()
    assert _read(study / "status.json")["status"] == "failed"
    (first,) = (study / "trials").iterdir()
    assert _read(first / "status.json")["status"] == "completed"
    mtime = (first / "metrics.json").stat().st_mtime_ns

    resume_tune(study, quiet=True)
    record = _read(study / "study.json")
    assert [t["state"] for t in record["trials"]] == ["complete", "complete"]
    assert record["trials"][0]["run_dir"] == f"trials/{first.name}"
    assert record["trials"][0]["value"] == pytest.approx(
        _read(first / "metrics.json")["val"]["rmse"]
    )
    assert len(list((study / "trials").iterdir())) == 2  # trial 0 not trained again
    assert (first / "metrics.json").stat().st_mtime_ns == mtime
    assert _read(first / "status.json")["status"] == "completed"
    assert _read(study / "status.json")["status"] == "completed"
