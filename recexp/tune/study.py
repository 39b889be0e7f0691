"""``recexp tune``: an Optuna study over a spec, each trial an ordinary run directory.

A study directory (a parent run: ``compare`` shows it as one row) holds:

- ``config.yaml``: the base spec, resolved;
- ``spec.yaml``, ``space.yaml``: the spec as written (``--set`` applied) and the search
  space, what every trial's config is built from (on any machine, and on ``--resume``);
- ``tune.json``: the study's settings (sampler, pruner, trials) and its sessions;
- ``study.log``: Optuna's journal storage, the study itself, safe to share between
  processes (``optuna-dashboard study.log``, or
  ``JournalStorage(JournalFileBackend("study.log"))`` with ``optuna.load_study``);
- ``trials/``: one run directory per trial; its status.json says completed, pruned,
  failed or interrupted;
- ``study.json``: every trial's params, state, value (val RMSE), epochs and run directory;
  the selected trial, best params, parameter importances;
- ``metrics.json``: the selected trial's metrics (chosen on validation RMSE, never test);
- ``history.png``: Optuna's optimisation-history plot;
- ``status.json``: running, completed, stopped (the timeout came first; ``--resume`` goes
  on), interrupted or failed.

Trials run here one at a time, ``jobs`` at a time as worker processes sharing the storage
(:mod:`recexp.tune.worker`), or through Ray Tune (:mod:`recexp.tune.ray_backend`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import math
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from recexp.config import ExperimentConfig
from recexp.errors import ConfigError, TrainingError
from recexp.runs import METRICS_FILE, STATUS_FILE, RunDir
from recexp.tune.space import Space, check_space, load_space, trial_config

STUDY_NAME = "recexp"
MONITOR = "val_rmse"
SETTINGS_FILE = "tune.json"
STUDY_FILE = "study.json"
STORAGE_FILE = "study.log"
TRIALS_DIR = "trials"
PLOT_FILE = "history.png"
SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "asha", "none")
BACKENDS = ("local", "ray")
RAY_INSTALL = "pip install 'recexp[ray]'"


# --- Optuna pieces ------------------------------------------------------------------------


def _optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise ConfigError(
            "recexp tune needs Optuna: pip install 'recexp[tune]'", key="tune"
        ) from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna


def storage(study_dir: Path) -> Any:
    """The study's journal storage: one append-only file, safe for several processes."""
    optuna = _optuna()
    journal = optuna.storages.journal
    path = str(Path(study_dir) / STORAGE_FILE)
    backend_cls = getattr(journal, "JournalFileBackend", None)
    if backend_cls is None:  # optuna < 4
        backend_cls = optuna.storages.JournalFileStorage
    return journal.JournalStorage(backend_cls(path))


def make_sampler(name: str, seed: int, space: Space, trials: int, parallel: bool = False) -> Any:
    optuna = _optuna()
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "grid":
        return _grid_sampler()(space.grid(), seed=seed)
    return optuna.samplers.TPESampler(
        seed=seed, n_startup_trials=min(10, max(3, trials // 4)), constant_liar=parallel
    )


def _grid_sampler() -> Any:
    optuna = _optuna()

    class GridSampler(optuna.samplers.GridSampler):  # type: ignore[misc,name-defined]
        """Optuna's grid sampler for ask-and-tell: the study's trial count (capped at the
        grid's size) ends it, not ``study.stop()`` (allowed only inside ``optimize``)."""

        def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
            pass

    return GridSampler


def make_pruner(name: str) -> Any:
    """median: below the median of earlier trials at the same epoch (from epoch 4, after
    5 trials); asha: successive halving (rungs at epochs 1, 3, 9, ...); none."""
    optuna = _optuna()
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=4)
    if name == "asha":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    return optuna.pruners.NopPruner()


def open_study(study_dir: Path, sampler: Any = None, pruner: Any = None) -> Any:
    optuna = _optuna()
    return optuna.load_study(
        study_name=STUDY_NAME, storage=storage(study_dir), sampler=sampler, pruner=pruner
    )


def _state(trial: Any) -> str:
    name = trial.state.name.lower()
    if name == "fail" and trial.user_attrs.get("interrupted"):
        return "interrupted"
    return name


def counted(trials: list[Any]) -> int:
    """Trials that count towards ``--trials``: finished (completed, pruned, failed on their
    own) or running now; an interrupted one is run again."""
    return sum(_state(t) in ("complete", "pruned", "fail", "running", "waiting") for t in trials)


def finished(trials: list[Any]) -> int:
    return sum(_state(t) in ("complete", "pruned", "fail") for t in trials)


# --- settings -----------------------------------------------------------------------------


@dataclass
class Study:
    """A study directory and its settings (tune.json)."""

    path: Path
    settings: dict[str, Any]

    @property
    def run(self) -> RunDir:
        return RunDir(self.path)

    @property
    def space(self) -> Space:
        return Space.from_dict(self.settings["space"], file=str(self.path / "space.yaml"))

    @property
    def raw(self) -> dict[str, Any]:
        data = yaml.safe_load((self.path / "spec.yaml").read_text())
        return data if isinstance(data, dict) else {}

    @property
    def base_name(self) -> str:
        return str(self.settings["name"])

    def save(self) -> None:
        self.run.write_json(SETTINGS_FILE, self.settings)

    @classmethod
    def load(cls, path: str | Path) -> Study:
        path = Path(path)
        try:
            settings = json.loads((path / SETTINGS_FILE).read_text())
        except (FileNotFoundError, NotADirectoryError):
            raise ConfigError(
                f"not a tune study directory (no {SETTINGS_FILE})", file=str(path)
            ) from None
        except (json.JSONDecodeError, OSError) as e:
            raise ConfigError(
                f"unreadable {SETTINGS_FILE}: {e.__class__.__name__}", file=str(path)
            ) from None
        return cls(path.resolve(), settings)


def parse_resources(text: str | None) -> dict[str, float]:
    """``"cpu=2,gpu=1"`` -> ``{"cpu": 2.0, "gpu": 1.0}``; default one CPU."""
    if not text:
        return {"cpu": 1.0}
    out: dict[str, float] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        try:
            amount = float(value)
        except ValueError:
            amount = -1.0
        if not sep or not key or amount < 0 or not math.isfinite(amount):
            raise ConfigError(
                "resources look like cpu=2,gpu=1 (non-negative amounts)",
                key="--trial-resources",
                got=text,
            )
        out[key] = amount
    return out


def _check_options(
    space: Space, sampler: str, pruner: str | None, trials: int | None, jobs: int, backend: str
) -> int:
    if sampler not in SAMPLERS:
        raise ConfigError(f"expected one of: {', '.join(SAMPLERS)}", key="--sampler", got=sampler)
    if pruner is not None and pruner not in PRUNERS:
        raise ConfigError(f"expected one of: {', '.join(PRUNERS)}", key="--pruner", got=pruner)
    if backend not in BACKENDS:
        raise ConfigError(f"expected one of: {', '.join(BACKENDS)}", key="--backend", got=backend)
    if jobs < 1:
        raise ConfigError("needs at least 1", key="--jobs", got=jobs)
    if backend == "ray" and jobs != 1:
        raise ConfigError(
            "--jobs is for the local backend; Ray runs as many trials as the cluster's "
            "resources allow (see --trial-resources)",
            key="--jobs",
            got=jobs,
        )
    if sampler == "grid":
        bad = next((p for p in space.params if p.kind != "categorical"), None)
        if bad is not None:
            raise ConfigError(
                "the grid sampler needs categorical choices for every key",
                key=bad.key,
                got=bad.kind,
                file=space.file,
            )
        size = space.grid_size()
        trials = size if trials is None else min(trials, size)
    if trials is None:
        raise ConfigError("how many trials? (--trials N)", key="--trials")
    if trials < 1:
        raise ConfigError("needs at least 1", key="--trials", got=trials)
    return trials


def require_ray() -> None:
    """Ray is an optional extra: without it, one line with the install command."""
    import importlib.util

    if importlib.util.find_spec("ray") is None:
        raise ConfigError(f"the ray backend needs Ray: {RAY_INSTALL}", key="--backend", got="ray")


# --- creating and resuming ----------------------------------------------------------------


def create_study(
    spec: str | Path,
    space: Space | str | Path,
    *,
    trials: int | None,
    sampler: str = "tpe",
    pruner: str | None = None,
    jobs: int = 1,
    backend: str = "local",
    overrides: list[str] | None = None,
    runs_root: str | Path = "runs",
) -> Study:
    """Validate everything, then create the study directory and its storage.

    Any bad input (spec, space, a point of the space, an option) is a ConfigError raised
    before anything is written.
    """
    if not isinstance(space, Space):
        space = load_space(space)
    base, raw = check_space(spec, space, overrides)
    trials = _check_options(space, sampler, pruner, trials, jobs, backend)
    if backend == "ray":
        require_ray()
    optuna = _optuna()
    run = RunDir.create(Path(runs_root), f"{base.name}-tune")
    run.write_text("config.yaml", yaml.safe_dump(base.resolved(), sort_keys=False))
    run.write_text("spec.yaml", yaml.safe_dump(raw, sort_keys=False))
    run.write_text("space.yaml", yaml.safe_dump(space.as_dict(), sort_keys=False))
    settings = {
        "spec": str(spec),
        "overrides": list(overrides or []),
        "space_file": space.file,
        "space": space.as_dict(),
        "name": base.name,
        "seed": base.seed,
        "max_epochs": base.training.max_epochs,
        "sampler": sampler,
        "pruner": pruner,
        "trials": trials,
        "monitor": MONITOR,
        "sessions": [],
    }
    study = Study(run.path.resolve(), settings)
    study.save()
    run.set_status("created", trials=trials)
    optuna.create_study(study_name=STUDY_NAME, storage=storage(study.path), direction="minimize")
    return study


def _pid_alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prepare_resume(study: Study) -> int:
    """Before a study continues: refuse one that is still running; trials left running by
    a crash are marked interrupted (in Optuna and in their run directory) and run again.
    Returns how many were."""
    try:
        status = json.loads((study.path / STATUS_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        status = {}
    if status.get("status") == "running" and _pid_alive(status.get("pid")):
        raise ConfigError(f"the study is still running (pid {status['pid']})", file=str(study.path))
    optuna = _optuna()
    st = storage(study.path)
    loaded = optuna.load_study(study_name=STUDY_NAME, storage=st)
    stale = loaded.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    for trial in stale:
        st.set_trial_user_attr(trial._trial_id, "interrupted", True)
        st.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL)
        path = trial_run_dir(study, trial.number, trial.user_attrs)
        if path is not None and _run_status(path).get("status") == "running":
            RunDir(path).set_status("interrupted", reason="the study stopped during this trial")
    return len(stale)


# --- one trial ----------------------------------------------------------------------------


def trial_name(base: str, number: int) -> str:
    return f"{base}-t{number:03d}"


def trial_run_dir(study: Study, number: int, attrs: dict[str, Any] | None = None) -> Path | None:
    """A trial's run directory: recorded in its user attrs, else found by its name."""
    rel = (attrs or {}).get("run_dir")
    if rel:
        return study.path / rel
    found = sorted((study.path / TRIALS_DIR).glob(f"*-{trial_name(study.base_name, number)}"))
    return found[-1] if found else None


def _run_status(path: Path) -> dict[str, Any]:
    try:
        return dict(json.loads((path / STATUS_FILE).read_text()))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _metrics(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        return dict(json.loads((path / METRICS_FILE).read_text()))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _val_rmse(metrics: dict[str, Any]) -> float | None:
    value = (metrics.get("val") or {}).get("rmse")
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def build_trial(study: Study, number: int, values: dict[str, Any]) -> ExperimentConfig:
    config = trial_config(study.raw, values)
    return config.model_copy(update={"name": trial_name(study.base_name, number)})


class PruneListener:
    """Feeds each epoch's val RMSE to an Optuna trial; asks its pruner whether to go on."""

    def __init__(self, trial: Any, pruner: str = "optuna", on_epoch: Any = None) -> None:
        self.trial = trial
        self.pruner = pruner
        self.callback = on_epoch

    def on_epoch(self, row: dict[str, float]) -> None:
        from recexp.tune._compat import stop_training

        value = row.get(MONITOR)
        epoch = int(row.get("epoch", 0))
        if self.callback is not None:
            self.callback(row)
        if value is None or not math.isfinite(value):
            return
        self.trial.report(float(value), epoch)
        if self.trial.should_prune():
            raise stop_training(
                f"pruned by the {self.pruner} pruner at epoch {epoch} ({MONITOR} {value:.4f})"
            )


def tell_from_run(study: Study, optuna_study: Any, trial: Any, path: Path | None) -> str:
    """Record in Optuna what the trial's run directory says; returns the state."""
    optuna = _optuna()
    states = optuna.trial.TrialState
    status = _run_status(path).get("status") if path is not None else None
    if path is not None:
        trial.set_user_attr("run_dir", str(path.relative_to(study.path)))
    if status == "pruned":
        optuna_study.tell(trial, state=states.PRUNED)
        return "pruned"
    if status == "interrupted":
        trial.set_user_attr("interrupted", True)
        optuna_study.tell(trial, state=states.FAIL)
        return "interrupted"
    value = _val_rmse(_metrics(path)) if status == "completed" else None
    if value is None:
        error = _run_status(path).get("error") if path is not None else None
        trial.set_user_attr("error", error or "no validation RMSE")
        optuna_study.tell(trial, state=states.FAIL)
        return "fail"
    optuna_study.tell(trial, value)
    return "complete"


def run_trial(study: Study, optuna_study: Any, trial: Any, pruner_name: str) -> str:
    """Run one asked trial in this process; returns its state. Ctrl-C ends the trial as
    interrupted (run again on resume) and is raised again."""
    from recexp.display import Display
    from recexp.tune._compat import run_with_listeners

    # many models in one process is the point here: no "tf.function retracing" warnings
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    values = study.space.suggest(trial)
    config = build_trial(study, trial.number, values)
    listener = PruneListener(trial, pruner_name)
    try:
        run = run_with_listeners(
            config,
            study.path / TRIALS_DIR,
            display=Display(quiet=True),
            quiet=True,
            listeners=[listener],
        )
        path: Path | None = run.path
    except TrainingError as error:  # e.g. a NaN loss: recorded, the study goes on
        trial.set_user_attr("error", str(error))
        path = trial_run_dir(study, trial.number)
    except BaseException as error:
        path = trial_run_dir(study, trial.number)
        if path is not None:
            trial.set_user_attr("run_dir", str(path.relative_to(study.path)))
        interrupted = isinstance(error, KeyboardInterrupt)
        trial.set_user_attr(
            "interrupted" if interrupted else "error", True if interrupted else str(error)
        )
        optuna_study.tell(trial, state=_optuna().trial.TrialState.FAIL)
        raise
    state = tell_from_run(study, optuna_study, trial, path)
    if state == "interrupted":
        raise KeyboardInterrupt
    return state


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
    *,
    worker: int = 0,
    session: int = 0,
    deadline: float | None = None,
    pruner: Any = None,
    parallel: bool = False,
) -> int:
    """Ask, run, tell until the study has its trials or the deadline passes; returns how
    many trials this worker ran. Several workers may share one study."""
    settings = study.settings
    pruner_name = settings.get("pruner") or "median"
    sampler = make_sampler(
        settings["sampler"],
        int(settings["seed"]) + 1000 * session + worker,
        study.space,
        int(settings["trials"]),
        parallel=parallel,
    )
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
            if counted(optuna_study.get_trials(deepcopy=False)) >= int(settings["trials"]):
                break
            trial = optuna_study.ask()
        run_trial(study, optuna_study, trial, pruner_name)
        ran += 1
    return ran


# --- a session: create or resume, run, finalize ---------------------------------------------


def run_study(
    study: Study,
    *,
    timeout: float | None = None,
    jobs: int = 1,
    backend: str = "local",
    address: str | None = None,
    trial_resources: str | None = None,
    quiet: bool = False,
    pruner: Any = None,
) -> RunDir:
    """One session of ``study``: its remaining trials, then study.json and metrics.json."""
    from recexp.display import Display
    from recexp.tune.progress import Progress

    if backend not in BACKENDS:
        raise ConfigError(f"expected one of: {', '.join(BACKENDS)}", key="--backend", got=backend)
    resources = parse_resources(trial_resources)
    if backend == "ray":
        require_ray()
    if timeout is not None and timeout <= 0:
        raise ConfigError("needs a positive number of seconds", key="--timeout", got=timeout)
    session = len(study.settings["sessions"])
    started = time.time()
    deadline = started + timeout if timeout else None
    record: dict[str, Any] = {
        "started": started,
        "backend": backend,
        "jobs": jobs,
        "timeout": timeout,
        "trials": study.settings["trials"],
        "pruner": _pruner_label(study, backend, pruner),
    }
    study.settings["sessions"].append(record)
    study.save()
    study.run.set_status("running", pid=os.getpid(), session=session, backend=backend)
    display = Display(quiet=quiet)
    display.message(
        f"study {study.path}: {study.settings['trials']} trials, sampler "
        f"{study.settings['sampler']}, pruner {_pruner_label(study, backend, pruner)}, "
        f"backend {backend}" + (f" x{jobs}" if jobs > 1 else "")
    )
    progress = Progress(study.path, int(study.settings["trials"]), quiet=quiet)
    progress.start()
    try:
        if backend == "ray":
            from recexp.tune.ray_backend import run_ray

            run_ray(
                study,
                session=session,
                deadline=deadline,
                address=address,
                resources=resources,
                quiet=quiet,
            )
        elif jobs == 1:
            work(study, session=session, deadline=deadline, pruner=pruner)
        else:
            _run_workers(study, jobs, session, deadline)
    except BaseException as error:
        progress.stop()
        record["seconds"] = round(time.time() - started, 2)
        study.save()
        state = "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"
        with contextlib.suppress(Exception):
            write_study_json(study)
        study.run.set_status(state, error=str(error) or error.__class__.__name__, resume=True)
        raise
    progress.stop()
    record["seconds"] = round(time.time() - started, 2)
    study.save()
    return finalize(study, display)


def _pruner_label(study: Study, backend: str, pruner: Any) -> str:
    if pruner is not None:
        return type(pruner).__name__
    return str(study.settings.get("pruner") or ("asha" if backend == "ray" else "median"))


def _run_workers(study: Study, jobs: int, session: int, deadline: float | None) -> None:
    """``jobs`` worker processes on this machine, each asking the shared storage."""
    procs = []
    for i in range(jobs):
        command = [sys.executable, "-m", "recexp.tune.worker", str(study.path)]
        command += ["--worker", str(i), "--session", str(session), "--parallel"]
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
    if any(code == 130 for code in codes):
        raise KeyboardInterrupt
    bad = [(i, code) for i, code in enumerate(codes) if code]
    if bad:
        raise TrainingError(
            "tune: worker " + ", ".join(f"{i} exited with {code}" for i, code in bad)
        )


# --- the record -------------------------------------------------------------------------


def trial_records(study: Study) -> list[dict[str, Any]]:
    """Every trial: number, state, params (spec values), value, epochs, run directory."""
    space = study.space
    records = []
    for trial in open_study(study.path).get_trials(deepcopy=False):
        path = trial_run_dir(study, trial.number, trial.user_attrs)
        metrics = _metrics(path)
        record: dict[str, Any] = {
            "number": trial.number,
            "state": _state(trial),
            "params": space.decode(trial.params),
            "value": trial.value,
            "epochs": metrics.get("epochs_run", len(trial.intermediate_values) or None),
            "run_dir": str(path.relative_to(study.path)) if path is not None else None,
            "seconds": (
                round((trial.datetime_complete - trial.datetime_start).total_seconds(), 2)
                if trial.datetime_complete and trial.datetime_start
                else None
            ),
        }
        if metrics:  # for the reader; never used to select
            record["test_rmse"] = (metrics.get("test") or {}).get("rmse")
        if trial.user_attrs.get("error"):
            record["error"] = trial.user_attrs["error"]
        records.append(record)
    return records


def select(records: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The completed trial with the lowest validation RMSE (earliest on a tie)."""
    scored = [r for r in records if r["state"] == "complete" and r["value"] is not None]
    return min(scored, key=lambda r: (r["value"], r["number"])) if scored else None


def write_study_json(study: Study, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    records = trial_records(study)
    best = select(records)
    states = [r["state"] for r in records]
    out = {
        "spec": study.settings["spec"],
        "space": study.settings["space"],
        "sampler": study.settings["sampler"],
        "pruner": study.settings["pruner"],
        "monitor": MONITOR,
        "storage": STORAGE_FILE,
        "trials_wanted": study.settings["trials"],
        "counts": {
            s: states.count(s) for s in ("complete", "pruned", "fail", "interrupted", "running")
        },
        "epochs_trained": sum(r["epochs"] or 0 for r in records),
        "wall_seconds": round(sum(s.get("seconds") or 0 for s in study.settings["sessions"]), 2),
        "sessions": study.settings["sessions"],
        "selected": best["number"] if best else None,
        "best_params": best["params"] if best else None,
        "best_value": best["value"] if best else None,
        **(extra or {}),
        "trials": records,
    }
    study.run.write_json(STUDY_FILE, out)
    return out


def importances(study: Study) -> tuple[dict[str, float] | None, str | None]:
    """Optuna's parameter importances, or why there are none."""
    optuna = _optuna()
    loaded = open_study(study.path)
    complete = loaded.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if len(complete) < 2:
        return None, "needs at least 2 completed trials"
    try:
        values = optuna.importance.get_param_importances(loaded)
    except Exception as error:  # e.g. no parameter varied among completed trials
        return None, f"{error.__class__.__name__}: {error}"
    return {k: round(float(v), 4) for k, v in values.items()}, None


def plot_history(study: Study) -> Path | None:
    """Optuna's optimisation-history plot as a PNG (Agg backend); None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    optuna = _optuna()
    loaded = open_study(study.path)
    if not loaded.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        return None
    ax = optuna.visualization.matplotlib.plot_optimization_history(loaded)
    ax.set_title(f"{study.path.name}: val RMSE by trial")
    target = study.path / PLOT_FILE
    ax.figure.savefig(target, dpi=100, bbox_inches="tight")
    plt.close(ax.figure)
    return target


def finalize(study: Study, display: Any = None) -> RunDir:
    """study.json, the selected trial's metrics as the study's, importances, the plot."""
    from recexp.display import Display

    display = display or Display(quiet=True)
    values, why = importances(study)
    plot = plot_history(study)
    record = write_study_json(
        study,
        {"importances": values, "importances_note": why, "plot": plot.name if plot else None},
    )
    best = next((r for r in record["trials"] if r["number"] == record["selected"]), None)
    if best is None:
        study.run.set_status("failed", error="no trial produced a validation RMSE", resume=True)
        raise TrainingError("tune: no trial produced a validation RMSE", file=str(study.path))
    metrics = _metrics(study.path / best["run_dir"])
    metrics.update(
        name=study.path.name,
        tune={
            "trials": len(record["trials"]),
            "counts": record["counts"],
            "epochs_trained": record["epochs_trained"],
            "wall_seconds": record["wall_seconds"],
            "selected": {k: best[k] for k in ("number", "params", "value", "run_dir")},
        },
    )
    study.run.write_json(METRICS_FILE, metrics)
    done = finished(open_study(study.path).get_trials(deepcopy=False))
    complete = done >= int(study.settings["trials"])
    study.run.set_status(
        "completed" if complete else "stopped",
        trials=done,
        selected=best["number"],
        **({} if complete else {"reason": "timeout before every trial ran; --resume goes on"}),
    )
    counts = record["counts"]
    params = ", ".join(f"{k}={json.dumps(v)}" for k, v in best["params"].items())
    display.message(
        f"{done} trials ({counts['complete']} complete, {counts['pruned']} pruned, "
        f"{counts['fail']} failed), {record['epochs_trained']} epochs, "
        f"{record['wall_seconds']:.1f} s"
    )
    test = (metrics.get("test") or {}).get("rmse", float("nan"))
    display.message(
        f"selected on {MONITOR}: trial {best['number']} ({params}): val RMSE "
        f"{best['value']:.4f}, test RMSE {test:.4f}  -> {study.path}"
    )
    if values:
        display.message("importances: " + ", ".join(f"{k} {v:.2f}" for k, v in values.items()))
    return study.run


def run_tune(
    spec: str | Path,
    space: Space | str | Path,
    *,
    trials: int | None = None,
    timeout: float | None = None,
    sampler: str = "tpe",
    pruner: str | Any | None = None,
    jobs: int = 1,
    backend: str = "local",
    address: str | None = None,
    trial_resources: str | None = None,
    overrides: list[str] | None = None,
    runs_root: str | Path = "runs",
    quiet: bool = False,
) -> RunDir:
    """``recexp tune``: a new study; everything is validated before anything is written.

    ``pruner`` is a name (median, asha, none) or, from Python, an Optuna pruner object
    (local backend, one job).
    """
    parse_resources(trial_resources)
    if timeout is not None and timeout <= 0:
        raise ConfigError("needs a positive number of seconds", key="--timeout", got=timeout)
    custom = None if pruner is None or isinstance(pruner, str) else pruner
    if custom is not None and (jobs != 1 or backend != "local"):
        raise ConfigError(
            "a pruner object runs in this process only (local backend, one job)",
            key="pruner",
            got=type(custom).__name__,
        )
    study = create_study(
        spec,
        space,
        trials=trials,
        sampler=sampler,
        pruner=None if custom is not None else pruner,  # type: ignore[arg-type]
        jobs=jobs,
        backend=backend,
        overrides=overrides,
        runs_root=runs_root,
    )
    return run_study(
        study,
        timeout=timeout,
        jobs=jobs,
        backend=backend,
        address=address,
        trial_resources=trial_resources,
        quiet=quiet,
        pruner=custom,
    )


def resume_tune(
    path: str | Path,
    *,
    trials: int | None = None,
    timeout: float | None = None,
    jobs: int = 1,
    backend: str = "local",
    address: str | None = None,
    trial_resources: str | None = None,
    quiet: bool = False,
) -> RunDir:
    """``recexp tune --resume STUDY``: the same study, its finished trials kept."""
    study = Study.load(path)
    if trials is not None:
        if trials < 1:
            raise ConfigError("needs at least 1", key="--trials", got=trials)
        study.settings["trials"] = trials
    study.settings["trials"] = _check_options(
        study.space,
        study.settings["sampler"],
        study.settings["pruner"],
        int(study.settings["trials"]),
        jobs,
        backend,
    )
    parse_resources(trial_resources)
    if backend == "ray":
        require_ray()
    prepare_resume(study)
    return run_study(
        study,
        timeout=timeout,
        jobs=jobs,
        backend=backend,
        address=address,
        trial_resources=trial_resources,
        quiet=quiet,
    )
