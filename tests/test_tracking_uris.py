"""The MLflow tracking URIs people type, and trackers that cannot write: each form works,
or is refused in one line (the URI in it), exit 2, in seconds and before a run directory
exists (nothing in the runs folder). The rule is in the README's Tracking section."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

pytest.importorskip("mlflow")

SPEC = Path(__file__).resolve().parents[1] / "configs" / "tiny" / "biases.yaml"
ROOT_USER = os.geteuid() == 0  # chmod does not stop root: those cases use a file instead


def train(tmp_path: Path, *args: str):  # type: ignore[no-untyped-def]
    from recexp.cli import app

    runs = tmp_path / "runs"
    result = CliRunner().invoke(app, ["train", str(SPEC), "-q", "--runs-dir", str(runs), *args])
    return result, runs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("form", ["folder", "file", "sqlite"])
def test_a_local_store_in_each_form_logs_the_run(
    tmp_path: Path, form: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``file:///...`` was refused by MLflow 3 ("filesystem tracking backend is in
    maintenance mode") after the run directory existed; it is the folder form now."""
    from mlflow.tracking import MlflowClient

    monkeypatch.chdir(tmp_path)  # an sqlite:/// store keeps MLflow's artifacts in ./mlruns

    store = tmp_path / "store"
    uri = {"folder": str(store), "file": store.as_uri(), "sqlite": f"sqlite:///{store}.db"}[form]
    result, runs = train(tmp_path, "--mlflow", uri)
    assert result.exit_code == 0, result.output
    db = f"sqlite:///{store}.db" if form == "sqlite" else f"sqlite:///{store / 'mlflow.db'}"
    client = MlflowClient(db)
    (experiment,) = [e for e in client.search_experiments() if e.name == "recexp"]
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED" and len(list(runs.iterdir())) == 1


def refused(tmp_path: Path, uri: str, problem: str, *more: str) -> None:
    started = time.monotonic()
    result, runs = train(tmp_path, "--mlflow", uri, *more)
    seconds = time.monotonic() - started
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        f"{SPEC}: tracking.mlflow.uri: {problem} (got {uri!r})"
    ]
    assert not runs.exists()  # refused before the run directory (or its folder) was made
    assert seconds < 10, seconds


def test_a_server_that_does_not_answer_is_refused_in_seconds(tmp_path: Path) -> None:
    """Before: MLflow retried for 252 s, the run said "running" all along, then "failed"."""
    uri = f"http://127.0.0.1:{free_port()}"
    refused(
        tmp_path, uri, "cannot reach the MLflow server: ConnectionRefusedError (Connection refused)"
    )


def test_an_unknown_scheme_is_refused(tmp_path: Path) -> None:
    refused(
        tmp_path,
        "foo://bar",
        "unknown tracking URI scheme 'foo'; expected a folder, file:///FOLDER, sqlite:///FILE, "
        "http(s)://HOST:PORT, or a database URI (postgresql, mysql, mssql, databricks)",
    )


@pytest.mark.parametrize("form", ["folder", "file", "sqlite"])
def test_a_store_under_a_file_is_refused(tmp_path: Path, form: str) -> None:
    """A folder that cannot be made (its parent is a file: what a read-only parent is to
    a user who is not root). Before: a NotADirectoryError traceback."""
    blocker = tmp_path / "somefile"
    blocker.write_text("")
    store = blocker / "mlruns"
    uri = {"folder": str(store), "file": store.as_uri(), "sqlite": f"sqlite:///{store}/x.db"}[form]
    refused(tmp_path, uri, f"{blocker} is a file, not a folder: no store can be made in it")


@pytest.mark.skipif(ROOT_USER, reason="root writes into read-only folders")
@pytest.mark.parametrize("inside", [False, True])
def test_a_read_only_folder_is_refused(tmp_path: Path, inside: bool) -> None:
    """The store itself read-only (before: 108 s and 37 lines), or its parent (before: a
    PermissionError traceback)."""
    parent = tmp_path / "ro"
    (parent / "mlruns").mkdir(parents=True)
    (parent / "mlruns" if inside else parent).chmod(0o555)
    store = parent / ("mlruns" if inside else "new")
    try:
        refused(
            tmp_path,
            str(store),
            f"cannot write to the folder {store}: PermissionError (Permission denied)",
        )
    finally:
        (parent / "mlruns").chmod(0o755)
        parent.chmod(0o755)


def test_tensorboard_into_a_runs_dir_that_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    from recexp.cli import app

    blocker = tmp_path / "somefile"
    blocker.write_text("")
    runs = blocker / "runs"
    args = ["train", str(SPEC), "-q", "--set", "tracking.tensorboard=true", "--runs-dir", str(runs)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        f"{runs}: cannot make a run directory here: NotADirectoryError (Not a directory)"
    ]


@pytest.mark.skipif(ROOT_USER, reason="root writes into read-only folders")
def test_tensorboard_into_a_read_only_runs_dir_is_one_line(tmp_path: Path) -> None:
    from recexp.cli import app

    runs = tmp_path / "runs"
    runs.mkdir()
    runs.chmod(0o555)
    try:
        args = ["train", str(SPEC), "-q", "--set", "tracking.tensorboard=true"]
        result = CliRunner().invoke(app, [*args, "--runs-dir", str(runs)])
    finally:
        runs.chmod(0o755)
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        f"{runs}: cannot make a run directory here: PermissionError (Permission denied)"
    ]
    assert not list(runs.iterdir())
