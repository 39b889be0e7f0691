"""MLflow and TensorBoard trackers, their spec block, and start-up staying light."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from pydantic import ValidationError

from recexp import tracking, tracking_mlflow
from recexp.errors import ConfigError
from recexp.tracking_options import TrackingOptions
from tests.conftest import TINY
from tests.fake_runs import make_run

ROOT = Path(__file__).resolve().parents[1]
ROWS = [
    {"epoch": e, "loss": 1.0 / e, "rmse": 1.0 / e, "val_rmse": 1.1 / e, "learning_rate": 1e-3}
    for e in (1, 2, 3)
]


def resolved(name: str) -> dict:
    return {
        "name": name,
        "seed": 42,
        "dataset": {"name": "synthetic", "split": {"strategy": "random", "val": 0.1}},
        "model": {"family": "mf", "dim": 8, "layers": [64, 32]},
        "training": {"early_stopping": None, "shuffle": True},
    }


def run_tracker(tracker, run: Path) -> None:
    tracker.start(resolved(run.name), run)
    for row in ROWS:
        tracker.on_epoch(row)
    tracker.finish(json.loads((run / "metrics.json").read_text()), "completed", run)


# ---------------------------------------------------------------- pieces


def test_flatten_and_values():
    flat = tracking.flatten(resolved("x"))
    assert flat["dataset.split.strategy"] == "random" and flat["model.layers"] == [64, 32]
    assert [tracking.param_value(flat[k]) for k in ("model.layers", "training.early_stopping")]
    assert tracking.param_value(True) == "true" and tracking.param_value(None) == "null"
    assert len(tracking.param_value("x" * 1000)) == tracking.PARAM_VALUE_MAX
    numbers = tracking.numeric_metrics(
        {"test": {"rmse": 0.9, "ranking": {"ndcg@10": 0.3}}, "early_stopped": True, "a": "b"}
    )
    assert numbers == {"test.rmse": 0.9, "test.ranking.ndcg_at_10": 0.3, "early_stopped": 1.0}


def test_tracking_options():
    options = TrackingOptions.model_validate(
        {"mlflow": {"uri": "/tmp/x", "experiment": "e"}, "tensorboard": True}
    )
    assert options.mlflow is not None and options.mlflow.experiment == "e"
    assert TrackingOptions().mlflow is None and not TrackingOptions().tensorboard
    with pytest.raises(ValidationError, match="extra"):
        TrackingOptions.model_validate({"mlflow": {"url": "x"}})


def test_without_mlflow_one_line_with_the_install_command(monkeypatch):
    import recexp.tracking_options as options_module

    monkeypatch.setattr(options_module.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ValidationError, match=r"mlflow is not installed; pip install"):
        TrackingOptions.model_validate({"mlflow": {}})
    monkeypatch.setattr(tracking_mlflow, "mlflow_installed", lambda: False)
    with pytest.raises(ConfigError) as error:
        tracking.MlflowTracker()
    assert error.value.line() == (
        "tracking.mlflow: mlflow is not installed; "
        "pip install 'recexp[tracking]' (or: pip install mlflow)"
    )


def test_trackers_from_options(tmp_path: Path):
    assert tracking.trackers_from_options(None) == []
    made = tracking.trackers_from_options(TrackingOptions(tensorboard=True))
    assert [type(t).__name__ for t in made] == ["TensorBoardTracker"]


def test_default_store_is_local(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    uri, artifacts = tracking.resolve_uri(None)
    assert uri == f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    assert artifacts == (tmp_path / "mlruns" / "artifacts").as_uri()
    assert tracking.resolve_uri("http://127.0.0.1:5000") == ("http://127.0.0.1:5000", None)


# ---------------------------------------------------------------- MLflow


def check_mlflow_run(client, run_id: str, name: str) -> None:
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.info.run_name == name
    assert run.data.params["model.dim"] == "8"
    assert run.data.params["model.layers"] == "[64, 32]"
    assert run.data.params["training.early_stopping"] == "null"
    assert run.data.tags["recexp.status"] == "completed"
    assert json.loads(run.data.tags["recexp.fingerprint"]) == {"ratings": "a", "split": "s"}
    assert run.data.metrics["test.rmse"] == pytest.approx(0.9)
    history = client.get_metric_history(run_id, "val_rmse")
    assert [(m.step, round(m.value, 4)) for m in history] == [(1, 1.1), (2, 0.55), (3, 0.3667)]
    files = {a.path for a in client.list_artifacts(run_id)}
    assert {"config.yaml", "history.csv", "metrics.json", "predictions.parquet"} <= files


def test_mlflow_local_store(tmp_path: Path):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    store = tmp_path / "mlruns"
    run = make_run(tmp_path, "run-mf", test_rmse=0.9)
    tracker = tracking.MlflowTracker(str(store), "recexp-test")
    run_tracker(tracker, run)
    assert tracker.run_id is not None
    client = MlflowClient(tracking_uri=tracker.uri)
    experiment = client.get_experiment_by_name("recexp-test")
    listed = client.search_runs([experiment.experiment_id])
    assert [r.info.run_id for r in listed] == [tracker.run_id]
    check_mlflow_run(client, tracker.run_id, "run-mf")
    assert (store / "mlflow.db").is_file() and (store / "artifacts").is_dir()


def test_mlflow_nested_children(tmp_path: Path):
    pytest.importorskip("mlflow")
    store = str(tmp_path / "mlruns")
    sweep = make_run(tmp_path, "sweep", predictions=False)
    parent = tracking.MlflowTracker(store, "sweeps")
    parent.start(resolved("sweep"), sweep)
    trials = []
    for i in range(2):
        child = parent.child()
        run_tracker(child, make_run(sweep / "trials", f"trial-{i}", seed=i))
        trials.append(child.run_id)
    parent.finish({"test": {"rmse": 0.9}}, "completed", sweep)
    client = parent.client
    for run_id in trials:
        assert client.get_run(run_id).data.tags["mlflow.parentRunId"] == parent.run_id
    # the parent logs its own files, not its children's directories
    assert "trials" not in {a.path for a in client.list_artifacts(parent.run_id)}


def test_mlflow_store_that_cannot_be_reached_is_one_line(tmp_path: Path):
    pytest.importorskip("mlflow")
    (tmp_path / "file").write_text("not a directory")
    tracker = tracking.MlflowTracker(f"sqlite:///{tmp_path}/file/x.db")
    with pytest.raises(ConfigError) as error:
        tracker.start(resolved("x"), make_run(tmp_path, "x"))
    assert error.value.line() == (
        f"tracking.mlflow.uri: {tmp_path}/file is a file, not a folder: no store can be made "
        f"in it (got 'sqlite:///{tmp_path}/file/x.db')"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_mlflow_server(tmp_path: Path):
    """A real `mlflow server` on 127.0.0.1: the run, its epoch metrics and its files."""
    pytest.importorskip("mlflow")
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--backend-store-uri",
            f"sqlite:///{tmp_path / 'server.db'}",
            "--artifacts-destination",
            str(tmp_path / "server-artifacts"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its workers die with it
    )
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    "mlflow server did not start:\n" + (tmp_path / "server.log").read_text()
                )
            time.sleep(0.5)
        run = make_run(tmp_path, "served")
        tracker = tracking.MlflowTracker(uri, "served")
        run_tracker(tracker, run)
        assert tracker.run_id is not None
        check_mlflow_run(tracker.client, tracker.run_id, "served")
        assert (tmp_path / "server-artifacts").is_dir()  # uploaded through the server
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=20)
        log.close()


# ---------------------------------------------------------------- TensorBoard


def test_tensorboard_event_files(tmp_path: Path):
    import tensorflow as tf

    run = make_run(tmp_path, "run-mf", best_epoch=2)
    run_tracker(tracking.TensorBoardTracker(), run)
    values: dict[tuple[str, str], list[tuple[int, float]]] = {}
    texts = []
    for part in ("train", "validation", "test"):
        files = list((run / "tensorboard" / part).glob("events.out.tfevents.*"))
        assert len(files) == 1, part
        for event in tf.compat.v1.train.summary_iterator(str(files[0])):
            for value in event.summary.value:
                array = tf.make_ndarray(value.tensor)
                if value.metadata.plugin_data.plugin_name == "text":
                    texts.append(array.item().decode())
                    continue
                assert value.metadata.plugin_data.plugin_name == "scalars"
                values.setdefault((part, value.tag), []).append((event.step, float(array)))
    assert values[("train", "epoch_rmse")] == [(1, 1.0), (2, 0.5), (3, pytest.approx(1 / 3))]
    assert [s for s, _ in values[("validation", "epoch_rmse")]] == [1, 2, 3]
    assert values[("train", "epoch_learning_rate")][0] == (1, pytest.approx(1e-3))
    assert values[("test", "test_rmse")] == [(2, pytest.approx(0.9))]
    assert texts and "family: mf" in texts[0]


# ---------------------------------------------------------------- start-up stays light


HEAVY = ("matplotlib", "mlflow", "tensorboard")
PROBE = """
import sys
from recexp import cli
import recexp.plots, recexp.report, recexp.tracking, recexp.tracking_options
sys.argv = ["recexp", *sys.argv[1:]]
try:
    cli.main()
except SystemExit:
    pass
print("HEAVY", [m for m in {heavy!r} if m in sys.modules])
"""


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["plot", "--help"],
        ["report", "--help"],
        ["validate", "SPEC"],
        ["list"],
        ["list", "mf"],
        ["compare", "RUN", "--stats"],
    ],
    ids=lambda a: " ".join(a),
)
def test_startup_imports_no_plotting_or_tracking(tmp_path: Path, args: list[str]):
    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY)
    run = make_run(tmp_path, "run")
    args = [str(spec) if a == "SPEC" else str(run) if a == "RUN" else a for a in args]
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert "HEAVY []" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]


def test_train_mlflow_option_logs_the_run(tmp_path: Path) -> None:
    """``recexp train SPEC --mlflow DIR``: the run is in the local store with its epochs."""
    pytest.importorskip("mlflow")
    from typer.testing import CliRunner

    from recexp.cli import app
    from recexp.tracking_mlflow import resolve_uri

    spec = Path(__file__).resolve().parents[1] / "configs" / "tiny" / "biases.yaml"
    store = tmp_path / "mlruns"
    result = CliRunner().invoke(
        app,
        ["train", str(spec), "-q", "--runs-dir", str(tmp_path / "runs"), "--mlflow", str(store)],
    )
    assert result.exit_code == 0, result.output
    from mlflow.tracking import MlflowClient

    client = MlflowClient(resolve_uri(str(store))[0])
    (experiment,) = [e for e in client.search_experiments() if e.name == "recexp"]
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED" and run.info.run_name == "tiny-biases"
    (run_dir,) = (tmp_path / "runs").iterdir()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert run.data.metrics["test.rmse"] == pytest.approx(metrics["test"]["rmse"])
    assert [m.step for m in client.get_metric_history(run.info.run_id, "val_rmse")] == [1]
    # top-N metrics under MLflow's key rules ('@' is refused there)
    ndcg = metrics["test"]["ranking"]["ndcg@10"]
    assert run.data.metrics["test.ranking.ndcg_at_10"] == pytest.approx(ndcg)


def test_a_parent_run_logs_its_children_nested(tmp_path: Path) -> None:
    """``--seeds`` under MLflow: one parent run, each seed a child run nested under it."""
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient
    from typer.testing import CliRunner

    from recexp.cli import app
    from recexp.tracking_mlflow import resolve_uri

    spec = Path(__file__).resolve().parents[1] / "configs" / "tiny" / "biases.yaml"
    store = tmp_path / "mlruns"
    result = CliRunner().invoke(
        app,
        ["train", str(spec), "-q", "--seeds", "1,2", "--mlflow", str(store)]
        + ["--runs-dir", str(tmp_path / "runs")],
    )
    assert result.exit_code == 0, result.output
    client = MlflowClient(resolve_uri(str(store))[0])
    (experiment,) = [e for e in client.search_experiments() if e.name == "recexp"]
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1 and len(children) == 2
    assert {c.data.tags["mlflow.parentRunId"] for c in children} == {parents[0].info.run_id}
    assert "test.rmse_std" in parents[0].data.metrics
