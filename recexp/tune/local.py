"""The local backend: trials one at a time in this process, or ``--jobs K`` worker
processes (:mod:`recexp.tune.worker`) asking the study's shared storage for trials.
"""

from __future__ import annotations

import contextlib
import fcntl
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

from recexp.errors import TrainingError
from recexp.parents import ParentRun
from recexp.tune.optuna_parts import counted, make_pruner, make_sampler, open_study
from recexp.tune.settings import Study
from recexp.tune.trial import run_trial


@contextlib.contextmanager
def _ask_lock(study: Study) -> Iterator[None]:
    """One process at a time counts the trials and asks for the next one."""
    with open(study.path / ".ask.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def work(
    study: Study,
    parent: ParentRun,
    *,
    worker: int = 0,
    session: int = 0,
    deadline: float | None = None,
    pruner: Any = None,
    parallel: bool = False,
) -> int:
    """Ask, run, tell until the study has its trials or the deadline passes; returns how
    many trials this process ran. Several processes may share one study. ``pruner``: an
    Optuna pruner object instead of the study's (from Python, in this process only)."""
    settings = study.settings
    pruner_name = settings.get("pruner") or "median"
    seed = int(settings["seed"]) + 1000 * session + worker
    sampler = make_sampler(settings["sampler"], seed, study.space, study.trials, parallel)
    if pruner is None:
        pruner = make_pruner(pruner_name)
    else:
        pruner_name = type(pruner).__name__
    optuna_study = open_study(study.path, sampler=sampler, pruner=pruner)
    ran = 0
    while True:
        with _ask_lock(study):
            if deadline is not None and ran and time.time() >= deadline:
                break  # as Optuna's timeout: checked between trials, after the first
            if counted(optuna_study.get_trials(deepcopy=False)) >= study.trials:
                break
            trial = optuna_study.ask()
        run_trial(study, parent, optuna_study, trial, pruner_name)
        ran += 1
    return ran


def run_workers(study: Study, jobs: int, session: int, deadline: float | None) -> None:
    """``jobs`` worker processes on this machine, each asking the shared storage."""
    procs = []
    for i in range(jobs):
        command = [sys.executable, "-m", "recexp.tune.worker", str(study.path)]
        command += ["--worker", str(i), "--session", str(session)]
        if deadline is not None:
            command += ["--deadline", repr(deadline)]
        procs.append(subprocess.Popen(command))
    try:
        while any(p.poll() is None for p in procs):
            time.sleep(0.5)
    except BaseException:
        for p in procs:
            if p.poll() is None:
                p.terminate()  # SIGTERM: the worker's run ends as interrupted
        for p in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=60)
        raise
    codes = [p.returncode for p in procs]
    if any(code in (130, 143) for code in codes):
        raise KeyboardInterrupt
    bad = [(i, code) for i, code in enumerate(codes) if code]
    if bad:
        raise TrainingError(
            "tune: worker " + ", ".join(f"{i} exited with {code}" for i, code in bad)
        )
