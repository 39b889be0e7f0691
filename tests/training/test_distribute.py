"""``training.distribute``: the refusals at validation, ``mirrored`` on 2 logical CPU devices,
``multi_worker`` with 2 worker processes on loopback, and why ``parameter_server`` is refused.

Tolerance of the comparisons with ``none``: the loss is the same function and the global
batches are the same rows in the same order, but under a strategy each replica takes the
mean loss of its half of the batch (scaled by 1/2) and the two gradients are summed, so
float32 sums run in a different order (rows, then replicas) and the last bits of each
update differ; those differences compound over the steps and are not 0, so the test
RMSE is compared within 1e-4 (0.01% of an RMSE near 1; measured: about 1e-9).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from recexp.config import load_spec
from recexp.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
RMSE_TOLERANCE = 1e-4
WAIT_SECONDS = 300  # bounded, with room for a machine shared with other jobs

# quotient-remainder users, mixed-dim items, lazy Adam: sparse gradients of different
# lengths per replica, early stopping with restore-best
SPEC = """\
name: tiny-dist
seed: 7
dataset: {name: synthetic, n_users: 120, n_items: 80, n_ratings: 3000}
model: {family: mf, dim: 8, l2: 0.05}
embedding:
  user: {strategy: quotient_remainder, num_buckets: 12}
  item: {strategy: mixed_dim, blocks: [20, 30], dims: [8, 4, 2]}
optimizer: {name: lazy_adam, learning_rate: 0.01}
training:
  batch_size: 128
  max_epochs: 2
  early_stopping: {monitor: val_rmse, patience: 2, restore_best_weights: true}
"""


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "dist.yaml"
    path.write_text(SPEC)
    return path


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2", **extra}


def metrics(run: Path) -> dict:
    return json.loads((run / "metrics.json").read_text())


@pytest.mark.parametrize(
    ("overrides", "line"),
    [
        (
            ["training.distribute.strategy=parameter_server"],
            "training.distribute.strategy: parameter_server is not supported with Keras 3: "
            "model.fit has no ClusterCoordinator",
        ),
        (
            ["training.distribute.strategy=multi_worker", "training.engine=keras"],
            "training.distribute.strategy: multi_worker is not supported with "
            "training.engine: keras (Keras 3.15's fit fails",
        ),
        (
            ["training.distribute.devices=4"],
            "training.distribute.devices: devices is for strategy: mirrored only",
        ),
    ],
)
def test_validation_refuses_what_cannot_run_in_one_line(spec, overrides, line):
    with pytest.raises(ConfigError) as error:
        load_spec(spec, overrides)
    assert str(error.value).startswith(f"{spec}: {line}")
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "optimizer",
    [
        "{name: lazy_adam, learning_rate: 0.01}",
        "{name: rowwise_adagrad, learning_rate: 0.1}",
        # a clipnorm that never binds: ids merged per replica for clipping, and again (the
        # replicas' rows concatenated) in update_step
        "{name: lazy_adam, learning_rate: 0.01, clipnorm: 1.0e+6}",
    ],
)
def test_mirrored_on_two_logical_cpus_matches_one_device(tmp_path, optimizer):
    spec = tmp_path / "dist.yaml"
    spec.write_text(SPEC.replace("{name: lazy_adam, learning_rate: 0.01}", optimizer))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.training.distribute_jobs",
            "mirrored",
            str(spec),
            str(tmp_path),
        ],
        env=env(),
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=WAIT_SECONDS,
    )
    mirrored = metrics(next(tmp_path.glob("*-tiny-mirrored")))
    single = metrics(next(tmp_path.glob("*-tiny-none")))
    assert mirrored["epochs_run"] == single["epochs_run"]
    assert mirrored["test"]["rmse"] == pytest.approx(single["test"]["rmse"], abs=RMSE_TOLERANCE)


def test_multi_worker_two_processes_one_run_directory(spec, tmp_path):
    from recexp.parents import train

    single = train(load_spec(spec, ["name=tiny-single"]), tmp_path / "single", quiet=True)
    ports = [free_port() for _ in range(2)]
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    runs = tmp_path / "runs"
    command = [sys.executable, "-m", "recexp", "train", str(spec), "--runs-dir", str(runs)]
    command += ["--quiet", "--set", "training.distribute.strategy=multi_worker"]
    logs = [tmp_path / f"worker{i}.log" for i in range(2)]  # a file: a full pipe would block
    workers = [
        subprocess.Popen(
            command,
            env=env(
                TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})
            ),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=logs[i].open("wb"),
        )
        for i in range(2)
    ]
    try:
        codes = [w.wait(timeout=WAIT_SECONDS) for w in workers]
        assert codes == [0, 0], [log.read_text()[-2000:] for log in logs]
    finally:
        for w in workers:
            w.kill()
            w.wait()
    (run,) = runs.iterdir()  # the chief's; the other worker's scratch directory is gone
    assert json.loads((run / "status.json").read_text())["status"] == "completed"
    got, want = metrics(run), single.metrics().as_json()
    assert got["epochs_run"] == want["epochs_run"]
    assert got["test"]["rmse"] == pytest.approx(want["test"]["rmse"], abs=RMSE_TOLERANCE)


def test_parameter_server_shards_the_table_but_keras_cannot_train_it():
    """The reason validation refuses ``parameter_server``: on a local cluster (2 workers,
    2 servers) the partitioner does shard a table bigger than one server's share, and
    Keras 3's train_step cannot take its gradient. If this starts to pass training, lift
    the refusal."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.training.distribute_jobs", "parameter-server"],
        env=env(),
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=WAIT_SECONDS,
    )
    found = json.loads(done.stdout.decode().strip().splitlines()[-1])
    assert found["kind"] == "ShardedVariable"
    assert found["shards"] == [[1000, 32], [1000, 32]]
    assert "has no attribute 'handle'" in found["error"]


def free_port() -> int:
    from tests.training.distribute_jobs import free_port as port

    return port()
