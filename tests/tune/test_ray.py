"""recexp tune --backend ray on a local Ray: a study stopped midway, then resumed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recexp.tune.study import resume_tune, run_tune
from tests.tune.conftest import TINY, write

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'recexp[ray]')")


@pytest.fixture
def local_ray():  # type: ignore[no-untyped-def]
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


@pytest.mark.slow
def test_a_ray_study_killed_midway_is_finished_by_resume(local_ray, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from recexp.tune.optuna_parts import open_study
    from recexp.tune.settings import Study

    space = write(
        tmp_path / "space.yaml",
        "optimizer.learning_rate: {kind: float, low: 0.002, high: 0.05, log: true}\n",
    )
    run = run_tune(
        TINY,
        space,
        trials=2,
        sampler="random",
        backend="ray",
        overrides=["training.max_epochs=2"],
        runs_root=tmp_path / "runs",
        quiet=True,
    )
    first = json.loads((run.path / "study.json").read_text())
    assert first["counts"]["complete"] + first["counts"]["pruned"] == 2
    finished = {t["number"]: t["run_dir"] for t in first["trials"]}
    # then killed midway through a third trial: Optuna holds it RUNNING, the study "running"
    open_study(run.path).ask()
    Study.load(run.path).run.set_status("running", pid=2**22 + 12345)  # no such process

    resumed = resume_tune(run.path, trials=3, backend="ray", quiet=True)
    record = json.loads((resumed.path / "study.json").read_text())
    assert record["counts"]["complete"] + record["counts"]["pruned"] == 3
    assert record["counts"]["interrupted"] == 1
    assert {
        t["number"]: t["run_dir"] for t in record["trials"] if t["number"] in finished
    } == finished  # not redone
    assert len(list((run.path / "trials").iterdir())) == 3
    assert json.loads((run.path / "status.json").read_text())["status"] == "completed"
    selected = next(t for t in record["trials"] if t["number"] == record["selected"])
    metrics = json.loads((run.path / "metrics.json").read_text())
    assert metrics["val"]["rmse"] == pytest.approx(selected["value"])
    for trial in record["trials"]:
        if trial["state"] == "interrupted":
            continue
        state = json.loads((run.path / trial["run_dir"] / "status.json").read_text())["status"]
        assert state == {"complete": "completed", "pruned": "pruned"}[trial["state"]]


@pytest.mark.slow
def test_ctrl_c_on_a_ray_study_exits_130_and_marks_it_interrupted(tmp_path: Path) -> None:
    """Ray Tune's own SIGINT handler used to end the experiment quietly: exit 0, status
    ``stopped``. Now Ctrl-C is answered as by every other parent."""
    import os
    import signal
    import subprocess
    import sys
    import time

    space = write(
        tmp_path / "space.yaml",
        "optimizer.learning_rate: {kind: float, low: 0.002, high: 0.05, log: true}\n",
    )
    runs = tmp_path / "runs"
    command = [sys.executable, "-m", "recexp", "tune", str(TINY), "--space", str(space)]
    command += ["--trials", "4", "--sampler", "random", "--backend", "ray", "-q"]
    command += ["--set", "training.max_epochs=300", "--set", "training.early_stopping=null"]
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": root, "TF_CPP_MIN_LOG_LEVEL": "2"}
    process = subprocess.Popen(
        [*command, "--runs-dir", str(runs)], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 180
        while not list(runs.glob("*/trials/*/history.csv")):
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "no Ray trial started training in time"
            time.sleep(0.3)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=90)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1].startswith("interrupted"), stderr
    (study,) = runs.iterdir()
    assert json.loads((study / "status.json").read_text())["status"] == "interrupted"
    for trial in (study / "trials").iterdir():  # none left "running" for --resume to guess
        state = json.loads((trial / "status.json").read_text())["status"]
        assert state in ("interrupted", "completed"), (trial.name, state)
    record = json.loads((study / "study.json").read_text())
    assert record["counts"]["interrupted"] >= 1 and record["counts"]["running"] == 0
