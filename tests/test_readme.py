"""Every command README.md shows, run as written from a copy of the repository.

The commands of its fenced ``bash`` blocks run in order (they build on each other's run
directories) from a temporary copy of the repository, with the default relative
``--runs-dir runs`` and the venv's ``bin`` first on PATH, as after ``source
.venv/bin/activate``. The synthetic dataset is MovieLens 100K's size and trains in
seconds, so the commands run unchanged. A command that cannot run here is marked in the
README with its reason (see tests/readme_commands.py); the test prints how many ran,
how many are marked and why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.readme_commands import commands

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def _copy_repository(to: Path) -> None:
    """The tracked files (a fresh clone's), else the tree without outputs and caches."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=False)
    names = [n for n in listed.stdout.decode().split("\0") if n] if listed.returncode == 0 else []
    if not names:
        ignore = shutil.ignore_patterns(
            ".git", ".venv", "runs", "mlruns", "__pycache__", ".*_cache"
        )
        shutil.copytree(ROOT, to, ignore=ignore, dirs_exist_ok=True)
        (to / "runs").mkdir(exist_ok=True)
        return
    for name in names:
        source = ROOT / name
        if source.is_file():
            (to / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, to / name)


def test_the_parser_reads_commands_and_markers(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(
        "```bash\nrecexp list   # registries\n    # more of that comment\n\n"
        "recexp train X   # not run in tests: needs X\n```\n"
        "```yaml\nname: x\n```\n"
        "<!-- not run in tests: two hosts -->\n```bash\nexport A=1\nrecexp train Y\n```\n"
        "```bash\nrecexp train Z \\\n  --set a=1   # not run in tests: Z\nrecexp list\n```\n"
    )
    found = [(c.line, c.text.split("#")[0].strip(), c.skip) for c in commands(readme)]
    assert found == [
        (2, "recexp list", None),
        (5, "recexp train X", "needs X"),
        (12, "export A=1", "two hosts"),
        (13, "recexp train Y", "two hosts"),
        (16, "recexp train Z \\\n  --set a=1", "Z"),
        (18, "recexp list", None),
    ]


@pytest.mark.slow
def test_every_readme_command_runs_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    _copy_repository(repo)
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT)  # this checkout's recexp, however the venv installed it
    env.pop("RECEXP_DATA_DIR", None)  # no real data: what needs it is marked
    found = commands(README)
    ran, failures, started, took = 0, [], time.perf_counter(), {}
    for command in found:
        if command.skip:
            continue
        begun = time.perf_counter()
        done = subprocess.run(
            ["bash", "-o", "pipefail", "-c", command.text],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        ran += 1
        took[command.line] = time.perf_counter() - begun
        output = done.stdout + done.stderr
        if done.returncode != 0 or "Traceback (most recent call last)" in output:
            tail = "\n".join(output.strip().splitlines()[-8:])
            failures.append(
                f"README.md:{command.line}: exit {done.returncode}: {command.text}\n{tail}"
            )
    reasons = Counter(c.skip for c in found if c.skip)
    with capsys.disabled():
        print(
            f"\nREADME runner: {ran} commands run in {time.perf_counter() - started:.0f} s, "
            f"{sum(reasons.values())} marked not runnable here:"
        )
        for why, n in reasons.items():
            print(f"  {n} x {why}")
        slowest = sorted(took.items(), key=lambda kv: -kv[1])[:5]
        print("  slowest: " + ", ".join(f"README.md:{k} {v:.0f} s" for k, v in slowest))
    assert not failures, "\n\n".join(failures)
    assert ran >= 18  # the Walkthrough, Pictures and the local device commands
