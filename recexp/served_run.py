"""The run directory ``recexp recommend`` serves: the run given, or a study's (or sweep's)
selected trial, read as data and never trusted as a path.

A study's record (study.json) names its selected trial's run directory; that path is
resolved and refused unless it lies inside the study. The run's status says whether it
finished: an interrupted or failed run is served with a note saying so. Every file read
here that is missing, malformed or of the wrong shape is one line naming it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recexp.errors import ConfigError
from recexp.readers import read_json
from recexp.runs import (
    CONFIG,
    METRICS,
    STATUS,
    STUDY_RECORD,
    STUDY_SETTINGS,
    SWEEP_RECORD,
    effective_status,
)


@dataclass(frozen=True)
class ServedRun:
    """The run directory that holds the model, and what a user should know about it."""

    path: Path
    note: str | None = None  # e.g. "this run was interrupted: ..."


def served_run(path: Path) -> ServedRun:
    """``path``, or the trial a study or sweep at ``path`` selected."""
    from recexp.config import load_spec

    for name in (CONFIG, METRICS):
        if not (path / name).is_file():
            raise ConfigError(f"not a finished recexp run: no {name}", file=str(path))
    load_spec(path / CONFIG)  # a damaged spec is one line here, not a surprise later
    own = _status(path)
    if (path / STUDY_RECORD).exists() or (path / STUDY_SETTINGS).exists():
        chosen = _selected_trial(path, path / STUDY_RECORD)
    elif (path / SWEEP_RECORD).is_file():  # a sweep from before sweeps were studies
        chosen = _selected_sweep_trial(path)
    else:
        for kind in ("folds", "seeds"):
            if (path / kind).is_dir():
                raise ConfigError(
                    f"this run keeps one model per {kind[:-1]}: pass one of its {kind}/ runs",
                    file=str(path),
                )
        return ServedRun(path, _note(path, own, "this run"))
    study_note = _note(path, own, "the study", "its selected trial is the best finished so far")
    return ServedRun(chosen, _note(chosen, _status(chosen), "the selected trial") or study_note)


def _status(path: Path) -> str | None:
    """The run's state (``died`` for a running one whose process is gone); None when it
    has no status.json (a run made by hand, or by an old recexp)."""
    if not (path / STATUS).exists():
        return None
    record = read_json(path / STATUS, dict, STATUS)
    if not isinstance(record.get("status"), str):
        raise ConfigError("no status in it", file=str(path / STATUS), key="status")
    return effective_status(record)


def _note(
    path: Path, status: str | None, what: str, then: str = "served with the weights it kept"
) -> str | None:
    if status == "completed":
        return None
    if status is None:
        return f"{path}: {what} has no status.json: whether it finished is not known"
    return f"{path}: {what} is {status}, not completed: {then}"


def _selected_trial(study: Path, file: Path) -> Path:
    if not file.is_file():
        raise ConfigError(
            "a study without its record (study.json): recexp tune --resume writes it again",
            file=str(file),
        )
    record = read_json(file, dict, "study record")
    trials, selected = record.get("trials"), record.get("selected")
    if not isinstance(trials, list) or not all(isinstance(t, dict) for t in trials):
        raise ConfigError("expected a list of trials", file=str(file), key="trials")
    if selected is None:
        raise ConfigError("this study selected no trial (yet)", file=str(study))
    chosen = [i for i, t in enumerate(trials) if t.get("number") == selected]
    if not chosen:
        raise ConfigError("no trial has this number", file=str(file), key="selected", got=selected)
    return inside(study, trials[chosen[0]].get("run_dir"), file, f"trials.{chosen[0]}.run_dir")


def _selected_sweep_trial(sweep: Path) -> Path:
    file = sweep / SWEEP_RECORD
    record = read_json(file, dict, "sweep record")
    selected, trials = record.get("selected"), record.get("trials")
    if selected is None:
        raise ConfigError("this sweep selected no trial (yet)", file=str(sweep))
    if not isinstance(trials, list) or not isinstance(selected, int):
        raise ConfigError("expected a list of trials", file=str(file), key="trials")
    if not 0 <= selected < len(trials) or not isinstance(trials[selected], dict):
        raise ConfigError("no trial has this index", file=str(file), key="selected", got=selected)
    return inside(sweep, trials[selected].get("path"), file, f"trials.{selected}.path")


def inside(parent: Path, relative: Any, file: Path, key: str) -> Path:
    """``parent / relative`` resolved, refused unless it lies inside ``parent``."""
    if not isinstance(relative, str) or not relative:
        raise ConfigError(
            "expected a run directory inside the study", file=str(file), key=key, got=relative
        )
    target = (parent / relative).resolve()
    if not target.is_relative_to(parent.resolve()) or target == parent.resolve():
        raise ConfigError(
            "not a run directory inside the study: refused",
            file=str(file),
            key=key,
            got=relative,
        )
    return target
