"""A study directory checked before ``recexp tune --resume`` writes anything: each file
it reads or would write over, with one line naming the file when it cannot go on.

What a resume needs (tune.json, study.log, spec.yaml, config.yaml) must be there and
readable; what it writes again from the journal (status.json, study.json) may be missing
(it is written anew) but, when present, must be readable: a resume never writes over a
file it cannot read. The one repair: a torn last line of study.log
(:mod:`recexp.tune.journal`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from recexp.errors import ConfigError
from recexp.readers import read_json, read_text, read_yaml
from recexp.runs import CONFIG, STATUS, STUDY_RECORD, STUDY_SPEC, STUDY_STORAGE
from recexp.tune.journal import Journal, check_journal
from recexp.tune.optuna_parts import PRUNERS, SAMPLERS

NONE = type(None)
#: tune.json's keys and their JSON types
SETTINGS: dict[str, tuple[type, ...]] = {
    "spec": (str,),
    "overrides": (list,),
    "space": (dict,),
    "sampler": (str,),
    "pruner": (str, NONE),
    "trials": (int,),
    "name": (str,),
    "seed": (int,),
    "max_epochs": (int,),
    "sessions": (list,),
}
OPTIONAL = {"space_file": (str, NONE), "mlflow_run_id": (str, NONE), "monitor": (str,)}
REWRITTEN = "remove it if no process runs the study: --resume writes it again"


def check_settings(settings: Any, file: str) -> dict[str, Any]:
    """tune.json's mapping, each key of the type a study needs, the space parsable."""
    from recexp.tune.space import Space

    if not isinstance(settings, dict):
        raise ConfigError(
            "study settings must hold a mapping", file=file, got=type(settings).__name__
        )
    for key, types in {**SETTINGS, **OPTIONAL}.items():
        if key not in settings:
            if key in SETTINGS:
                raise ConfigError("required key is missing", file=file, key=key)
            continue
        value = settings[key]
        if not isinstance(value, types) or isinstance(value, bool) and bool not in types:
            names = " or ".join("null" if t is NONE else _json_name(t) for t in types)
            raise ConfigError(f"expected {names}", file=file, key=key, got=value)
    for key, allowed in (("sampler", SAMPLERS), ("pruner", PRUNERS)):
        if settings[key] is not None and settings[key] not in allowed:
            raise ConfigError(
                f"expected one of: {', '.join(allowed)}", file=file, key=key, got=settings[key]
            )
    if settings["trials"] < 1:
        raise ConfigError("needs at least 1", file=file, key="trials", got=settings["trials"])
    bad = next((i for i, s in enumerate(settings["sessions"]) if not isinstance(s, dict)), None)
    if bad is not None:
        raise ConfigError(
            "expected a mapping", file=file, key=f"sessions.{bad}", got=settings["sessions"][bad]
        )
    try:
        Space.from_dict(settings["space"])
    except ConfigError as e:
        raise ConfigError(
            e.problem, file=file, key=f"space.{e.key}" if e.key else "space"
        ) from None
    return settings


def _json_name(kind: type) -> str:
    return {str: "a string", int: "an integer", list: "a list", dict: "a mapping"}[kind]


def check_study_files(path: Path) -> Journal:
    """Every file of the study a resume reads or writes over (tune.json is read by
    :meth:`recexp.tune.settings.Study.load`); returns the checked journal."""
    from recexp.config import load_spec

    for name in (CONFIG, STUDY_SPEC):
        if not (path / name).is_file():
            raise ConfigError("missing from the study directory", file=str(path / name))
        if not read_text(path / name).endswith("\n"):  # recexp writes it whole, newline last
            raise ConfigError(
                "cut short: no newline at its end, where recexp ends what it writes",
                file=str(path / name),
            )
    read_yaml(path / STUDY_SPEC, "study spec")
    load_spec(path / CONFIG)
    for name in (STATUS, STUDY_RECORD):
        if (path / name).exists():
            try:
                record = read_json(path / name, dict, name)
            except ConfigError as e:
                raise ConfigError(f"{e.problem}; {REWRITTEN}", file=e.file, got=e.got) from None
            _check_record(name, record, path / name)
    return check_journal(path / STUDY_STORAGE)


def _check_record(name: str, record: dict[str, Any], file: Path) -> None:
    if name == STATUS and not isinstance(record.get("status"), str):
        raise ConfigError(f"no status in it; {REWRITTEN}", file=str(file), key="status")
    if name == STUDY_RECORD and not isinstance(record.get("trials"), list):
        raise ConfigError(f"no list of trials in it; {REWRITTEN}", file=str(file), key="trials")
