"""The run directory's contract: status with pid and host (a dead run shows as died), odd
files listed with their reason while the other runs still show, strict JSON."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from recexp.cli import app
from recexp.compare import collect
from recexp.runs import RunDir, read_run

from .test_compare import fake_run

runner = CliRunner()


def test_status_carries_pid_and_host(tmp_path: Path):
    run = RunDir.create(tmp_path, "x")
    run.set_status("running")
    status = json.loads((run.path / "status.json").read_text())
    assert status["status"] == "running" and isinstance(status["pid"], int) and status["host"]
    assert read_run(run.path)["status"]["status"] == "running"  # this process is alive


def test_a_running_run_whose_process_is_gone_shows_as_died(tmp_path: Path):
    path = fake_run(tmp_path, "killed", 0.9, status="running")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    status = json.loads((path / "status.json").read_text())
    (path / "status.json").write_text(json.dumps({**status, "pid": dead.pid}))
    (row,), _ = collect([path])
    assert row["status"] == "died"
    result = runner.invoke(app, ["compare", str(path), "--format", "csv"])
    assert result.exit_code == 0 and "died" in result.output


def test_odd_run_directories_are_listed_and_the_rest_shown(tmp_path: Path):
    good = fake_run(tmp_path, "good", 0.9)
    odd_status = fake_run(tmp_path, "odd-status", 0.9)
    (odd_status / "status.json").write_text('["completed"]')
    odd_metrics = fake_run(tmp_path, "odd-metrics", 0.9)
    (odd_metrics / "metrics.json").write_text('["completed"]')
    typed = fake_run(tmp_path, "typed", 0.9)
    (typed / "metrics.json").write_text('{"test": {"rmse": "low"}}')
    result = runner.invoke(app, ["compare", str(tmp_path), "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert good.name in result.output
    reasons = {line.split(": skipped: ")[0]: line.split(": skipped: ")[1]
               for line in result.output.splitlines() if ": skipped: " in line}  # fmt: skip
    assert reasons[str(odd_status)] == "status.json is not a JSON object"
    assert reasons[str(odd_metrics)] == "metrics.json is not a JSON object"
    assert reasons[str(typed)].startswith("metrics.json: test.rmse: input should be a valid number")


def test_a_runs_root_stands_for_the_runs_inside(tmp_path: Path):
    a, b = fake_run(tmp_path, "a", 0.9), fake_run(tmp_path, "b", 0.8)
    rows, problems = collect([tmp_path])
    assert {r["run"] for r in rows} == {a.name, b.name} and not problems


def test_failed_runs_show_their_reason_in_the_table(tmp_path: Path):
    fake_run(tmp_path, "bad", None, status="failed")
    result = runner.invoke(app, ["compare", str(tmp_path), "--format", "markdown"])
    assert "failed: loss became NaN" in result.output


def test_json_never_holds_nan_or_infinity(tmp_path: Path):
    run = RunDir.create(tmp_path, "x")
    run.write_json("metrics.json", {"test": {"rmse": math.inf, "mae": math.nan}, "n": [1.0]})
    text = (run.path / "metrics.json").read_text()
    assert "Infinity" not in text and "NaN" not in text
    assert json.loads(text) == {"test": {"rmse": None, "mae": None}, "n": [1.0]}


def test_peak_rss_is_this_process_not_the_parent_that_started_it():
    """A child started by a process holding ~300 MB reports its own peak, not the parent's
    (``ru_maxrss`` survives fork + exec on Linux; VmHWM does not)."""
    import subprocess
    import sys

    import pytest

    if not Path("/proc/self/status").exists():
        pytest.skip("no /proc: ru_maxrss is used")
    code = (
        "import subprocess, sys; big = bytearray(300 * 2**20); "
        "big[::4096] = b'x' * len(big[::4096]); "
        "print(subprocess.run([sys.executable, '-c', 'from recexp.run_facts import peak_rss_mb; "
        "print(peak_rss_mb())'], capture_output=True, text=True, check=True).stdout)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert float(out.stdout.split()[-1]) < 250
