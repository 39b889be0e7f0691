"""TensorFlow's start-up noise is held back; everything else written to stderr still shows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from recexp.training.tf_start import NOISE, filtered_stderr

ROOT = Path(__file__).resolve().parents[2]


def test_known_noise_is_dropped_and_other_lines_kept(capfd, monkeypatch):
    monkeypatch.delenv("RECEXP_TF_LOGS", raising=False)
    with filtered_stderr():
        os.write(2, b"I0000 00:00:1.0  1 cudart_stub.cc:31] Could not find cuda drivers\n")
        os.write(2, b"a real problem\n")
        os.write(2, b"E0000 00:00:1.0  1 cuda_platform.cc:52] failed call to cuInit\n")
        print("from python", file=sys.stderr)
    err = capfd.readouterr().err
    assert sorted(err.splitlines()) == ["a real problem", "from python"]


def test_recexp_tf_logs_keeps_everything(capfd, monkeypatch):
    monkeypatch.setenv("RECEXP_TF_LOGS", "1")
    with filtered_stderr():
        os.write(2, b"cudart_stub.cc:31] Could not find cuda drivers\n")
    assert "cudart_stub" in capfd.readouterr().err


def test_train_stderr_is_clean(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k != "RECEXP_TF_LOGS"}
    result = subprocess.run(
        [sys.executable, "-m", "recexp", "train", str(ROOT / "configs/tiny/mf.yaml"), "-q"]
        + ["--runs-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    # on a machine without CUDA, TensorFlow's GPU build writes cudart_stub / cuInit lines
    assert not [line for line in result.stderr.splitlines() if any(m in line for m in NOISE)]


THREADS_SCRIPT = """
import json
import tensorflow as tf
from recexp.training.tf_start import set_threads, thread_pools
first = set_threads(1, 2)
pools = thread_pools()
tf.constant(1.0) + 1.0  # starts the runtime: the pools are fixed from here on
same = set_threads(1, 2)
other = set_threads(2, 0)
print(json.dumps({"first": first, "pools": pools, "same": same, "other": other}))
"""


def test_thread_pools_are_set_before_start_and_kept_after():
    import json

    result = subprocess.run(
        [sys.executable, "-c", THREADS_SCRIPT], capture_output=True, text=True, check=True
    )
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["first"] is None and out["same"] is None
    assert out["pools"] == {"intra_op": 1, "inter_op": 2}
    assert out["other"] == (
        "training.threads: TensorFlow already started in this process; kept intra_op=1"
    )


def test_run_records_its_thread_pools(tmp_path: Path):
    import json

    subprocess.run(
        [sys.executable, "-m", "recexp", "train", str(ROOT / "configs/tiny/mf.yaml"), "-q"]
        + ["--runs-dir", str(tmp_path), "--set", "training.threads.intra_op=1"],
        capture_output=True,
        text=True,
        check=True,
    )
    (env,) = tmp_path.glob("*/env.json")
    assert json.loads(env.read_text())["tf_threads"] == {"intra_op": 1, "inter_op": 0}
