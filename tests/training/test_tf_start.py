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
