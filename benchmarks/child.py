"""Benchmark pieces in their own Python processes.

TensorFlow's thread pools are fixed when it starts and a process's peak memory is its own,
so each side of a comparison (the seeds' Keras, a recexp spec, a Surprise case, a scale
case) runs as ``python -m MODULE ...`` from the repository root.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def run_module(module: str, *args: str, overrides: Sequence[str] = ()) -> str:
    """``python -m module args --set KEY=VALUE ...``; its stdout (its stderr's end on failure)."""
    sets = [arg for item in overrides for arg in ("--set", item)]
    cmd = [sys.executable, "-m", module, *args, *sets]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(cmd[2:5])} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def module_json(module: str, *args: str, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """:func:`run_module` for a module that ends by printing one JSON line."""
    return json.loads(run_module(module, *args, overrides=overrides).strip().splitlines()[-1])
