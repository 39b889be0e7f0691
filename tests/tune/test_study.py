"""recexp tune on the local backend: a study, resume, pruning, selection on validation."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import optuna
import pytest

from recexp.tune.grid import grid_space
from recexp.tune.optuna_parts import open_study
from recexp.tune.settings import Study
from recexp.tune.study import resume_tune, run_tune
from tests.tune.conftest import TINY, write

LR = "optimizer.learning_rate: {kind: float, low: 0.002, high: 0.05, log: true}\n"


def _read(path: Path) -> dict:  # type: ignore[type-arg]
    return json.loads(path.read_text())


def test_a_local_study_records_every_trial_and_selects_on_validation(tmp_path: Path) -> None:
    space = write(tmp_path / "space.yaml", LR + "model.dim: {kind: categorical, choices: [2, 8]}\n")
    study = run_tune(
        TINY, space, trials=3, sampler="random", runs_root=tmp_path / "runs", quiet=True
    )
    record = _read(study.path / "study.json")
    assert record["counts"]["complete"] == 3 and len(record["trials"]) == 3
    for trial in record["trials"]:
        assert set(trial["params"]) == {"optimizer.learning_rate", "model.dim"}
        assert _read(study.path / trial["run_dir"] / "status.json")["status"] == "completed"
    best = min(record["trials"], key=lambda t: t["value"])
    assert record["selected"] == best["number"] and record["best_params"] == best["params"]
    # the study's metrics.json is the best-val trial's
    parent, child = (
        _read(study.path / "metrics.json"),
        _read(study.path / best["run_dir"] / "metrics.json"),
    )
    assert parent["val"] == child["val"] and parent["test"] == child["test"]
    assert parent["val"]["rmse"] == pytest.approx(best["value"])
    assert parent["tune"]["selected"]["number"] == best["number"]
    assert _read(study.path / "status.json")["status"] == "completed"
    assert (study.path / "history.png").stat().st_size > 0 and (study.path / "study.log").exists()
    assert set(record["importances"]) == {"optimizer.learning_rate", "model.dim"}
    # the storage is Optuna's own
    assert len(open_study(study.path).trials) == 3
    # compare: the study is one row (its selected trial), its trials/ the trials
    from recexp.compare import collect

    rows, problems = collect([study.path])
    assert not problems and [r["test_rmse"] for r in rows] == [parent["test"]["rmse"]]
    rows, problems = collect(sorted((study.path / "trials").iterdir()))
    assert not problems and len(rows) == 3


def test_an_error_in_a_trial_fails_the_study_as_any_parent_run(tmp_path: Path, monkeypatch):  # type: ignore[no-untyped-def]
    from recexp import experiment

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(experiment, "run_experiment", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        run_tune(TINY, write(tmp_path / "s.yaml", LR), trials=2, runs_root=tmp_path, quiet=True)
    (study,) = (p for p in tmp_path.iterdir() if p.is_dir())
    status = _read(study / "status.json")
    assert status["status"] == "failed" and status["error"] == "disk on fire"
    assert status["trials_completed"] == 0
    assert _read(study / "study.json")["trials"][0]["error"] == "disk on fire"


def test_resume_after_a_crash_does_not_redo_finished_trials(tmp_path: Path) -> None:
    space = write(tmp_path / "space.yaml", LR)
    run = run_tune(TINY, space, trials=2, sampler="random", runs_root=tmp_path / "runs", quiet=True)
    study = Study.load(run.path)
    before = {p.name: p.stat().st_mtime_ns for p in (run.path / "trials").iterdir()}
    # a crash (SIGKILL) mid-trial: Optuna has a RUNNING trial, the study says running
    crashed = open_study(run.path).ask()
    crashed.set_user_attr("run_dir", "trials/crashed")
    (run.path / "trials" / "crashed").mkdir()
    study.run.set_status("running", pid=2**22 + 12345)  # no such process
    (run.path / "trials" / "crashed" / "status.json").write_text('{"status": "running"}')

    resumed = resume_tune(run.path, trials=3, quiet=True)
    record = _read(resumed.path / "study.json")
    states = {t["number"]: t["state"] for t in record["trials"]}
    assert states == {0: "complete", 1: "complete", 2: "interrupted", 3: "complete"}
    after = {p.name: p.stat().st_mtime_ns for p in (run.path / "trials").iterdir()}
    assert {k: after[k] for k in before} == before  # finished trials untouched
    assert len(after) == 4  # one new trial
    assert _read(run.path / "trials" / "crashed" / "status.json")["status"] == "interrupted"
    assert len(record["sessions"]) == 2
    assert _read(run.path / "status.json")["status"] == "completed"


def test_a_timeout_stops_the_study_between_trials_and_resume_goes_on(tmp_path: Path) -> None:
    space = write(tmp_path / "space.yaml", LR)
    run = run_tune(
        TINY,
        space,
        trials=2,
        timeout=0.01,
        sampler="random",
        runs_root=tmp_path / "runs",
        quiet=True,
    )
    status = _read(run.path / "status.json")
    assert status["status"] == "stopped" and status["trials"] == 1  # the first always runs
    assert (run.path / "metrics.json").exists()
    resume_tune(run.path, quiet=True)
    assert _read(run.path / "status.json")["status"] == "completed"
    assert _read(run.path / "study.json")["counts"]["complete"] == 2


class PruneTrialOne(optuna.pruners.BasePruner):
    """Prunes trial 1 at its first report; never any other."""

    def prune(self, study, trial) -> bool:  # type: ignore[no-untyped-def]
        return bool(trial.number == 1)


def test_a_pruned_trial_is_recorded_as_pruned_with_its_history(tmp_path: Path) -> None:
    space = write(tmp_path / "space.yaml", LR)
    run = run_tune(
        TINY,
        space,
        trials=2,
        sampler="random",
        pruner=PruneTrialOne(),
        runs_root=tmp_path / "runs",
        quiet=True,
    )
    record = _read(run.path / "study.json")
    pruned = record["trials"][1]
    assert pruned["state"] == "pruned" and record["counts"]["pruned"] == 1
    assert record["trials"][0]["state"] == "complete" and record["selected"] == 0
    trial_dir = run.path / pruned["run_dir"]
    status = _read(trial_dir / "status.json")
    assert status["status"] == "pruned" and "epoch 1" in status["reason"]
    history = (trial_dir / "history.csv").read_text().strip().splitlines()
    assert len(history) == 2  # header + the one epoch trained
    metrics = _read(trial_dir / "metrics.json")
    assert "epoch 1" in metrics["pruned"] and metrics["epochs_run"] == 1
    assert pruned["epochs"] == 1 and record["epochs_trained"] == 1 + record["trials"][0]["epochs"]


def test_scrambled_test_ratings_leave_the_chosen_trial_unchanged(
    tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    # a grid over clearly different learning rates: selection on val only
    space = grid_space({"optimizer.learning_rate": [0.003, 0.03, 0.1]})
    first = run_tune(
        TINY, space, sampler="grid", pruner="none", runs_root=tmp_path / "a", quiet=True
    )

    from recexp import experiment

    prepare = experiment.prepare

    def scrambled(*args, **kwargs):  # type: ignore[no-untyped-def]
        data = prepare(*args, **kwargs)
        rating = np.random.default_rng(0).permutation(data.test.rating)
        data.test = dataclasses.replace(data.test, rating=rating)
        return data

    monkeypatch.setattr(experiment, "prepare", scrambled)
    second = run_tune(
        TINY, space, sampler="grid", pruner="none", runs_root=tmp_path / "b", quiet=True
    )
    a, b = _read(first.path / "study.json"), _read(second.path / "study.json")
    assert a["selected"] == b["selected"] and a["best_params"] == b["best_params"]
    assert [t["value"] for t in a["trials"]] == pytest.approx(
        [t["value"] for t in b["trials"]], abs=1e-4
    )
    ta, tb = _read(first.path / "metrics.json")["test"], _read(second.path / "metrics.json")["test"]
    assert ta["rmse"] != pytest.approx(tb["rmse"], abs=1e-3)  # test did change


@pytest.mark.slow
def test_jobs_run_trials_in_worker_processes_sharing_the_storage(tmp_path: Path) -> None:
    space = write(tmp_path / "space.yaml", LR)
    run = run_tune(
        TINY, space, trials=3, jobs=2, sampler="random", runs_root=tmp_path / "runs", quiet=True
    )
    record = _read(run.path / "study.json")
    assert record["counts"]["complete"] == 3 and len(record["trials"]) == 3
    assert record["sessions"][0]["jobs"] == 2
    assert len({t["run_dir"] for t in record["trials"]}) == 3


def test_the_command_runs_and_resumes_a_study(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    runner = CliRunner()
    space = write(tmp_path / "space.yaml", LR)
    runs = tmp_path / "runs"
    args = ["tune", str(TINY), "--space", str(space), "--trials", "1", "--sampler", "random"]
    result = runner.invoke(app, [*args, "--pruner", "none", "--runs-dir", str(runs), "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.output == ""
    (study,) = runs.iterdir()
    result = runner.invoke(app, ["tune", "--resume", str(study), "--trials", "2", "--quiet"])
    assert result.exit_code == 0, result.output
    assert _read(study / "study.json")["counts"]["complete"] == 2
    result = runner.invoke(app, ["tune", str(TINY), "--resume", str(study)])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"{study}: SPEC: a resumed study keeps its spec, space, sampler, pruner and metric"
    )
    result = runner.invoke(app, ["tune", "--resume", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.strip() == f"{tmp_path}: not a tune study directory (no tune.json)"
