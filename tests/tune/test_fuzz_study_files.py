"""Fuzz-style: each file of a study (tune.json, study.json, study.log, status.json,
config.yaml) missing, empty, cut at a seeded random byte, or valid JSON/YAML of the wrong
shape; ``recexp tune --resume`` and ``recexp recommend`` answer in one line with exit 2
and change nothing, or go on where the damage is repairable (saying so) or the file is one
they do not need (recommend needs no journal; a resume writes study.json and status.json
again when they are missing).
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.tune.conftest import copy_study, tree_hash

runner = CliRunner()
FILES = ("tune.json", "study.json", "study.log", "status.json", "config.yaml")
DAMAGES = ("missing", "empty", "truncated", "wrong shape")
WRONG_SHAPE = {
    "tune.json": b"[1, 2]\n",
    "study.json": b"[1, 2]\n",
    "study.log": b"[1, 2]\n",
    "status.json": b"[1, 2]\n",
    "config.yaml": b"- a\n- b\n",
}
#: what each command does with a file it reads as data but can go on without
RESUME_OK = {("study.json", "missing"), ("status.json", "missing")}
RECOMMEND_OK = {("tune.json", d) for d in DAMAGES} | {("study.log", d) for d in DAMAGES}
RECOMMEND_OK |= {("status.json", "missing")}  # served with a warning that it is unknown


def damage(study: Path, name: str, how: str) -> bytes:
    """Break ``name`` in ``study``; returns what it held."""
    path = study / name
    whole = path.read_bytes()
    if how == "missing":
        path.unlink()
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "truncated":  # seeded: the same cut in every run
        rng = random.Random(f"issue-29 {name}")
        path.write_bytes(whole[: rng.randrange(len(whole) // 4, 3 * len(whole) // 4)])
    else:
        path.write_bytes(WRONG_SHAPE[name])
    return whole


def journal_outcome(study: Path) -> str:
    """A cut journal: refused when no study is left in its complete lines, else repaired
    (a torn last line) or simply shorter."""
    data = (study / "study.log").read_bytes()
    complete = data[: data.rfind(b"\n") + 1]
    if b'"op_code":0' not in complete:
        return "refused"
    return "ok" if data.endswith(b"\n") else "repaired"


def spec_outcome(command: str, study: Path) -> str:
    """A cut config.yaml: a resume refuses one without its last newline (recexp wrote it
    whole); recommend, which serves the trial's own spec, only one that is no valid spec."""
    from recexp.config import load_spec
    from recexp.errors import ConfigError

    if command == "resume" and not (study / "config.yaml").read_bytes().endswith(b"\n"):
        return "refused"
    try:
        load_spec(study / "config.yaml")
    except ConfigError:
        return "refused"
    return "ok"


def expected(command: str, study: Path, name: str, how: str) -> str:
    if command == "resume" and (name, how) == ("study.log", "truncated"):
        return journal_outcome(study)
    if name == "config.yaml" and how == "truncated":
        return spec_outcome(command, study)
    ok = RESUME_OK if command == "resume" else RECOMMEND_OK
    return "ok" if (name, how) in ok else "refused"


def invoke(command: str, study: Path):  # type: ignore[no-untyped-def]
    from recexp.cli import app

    if command == "resume":
        return runner.invoke(app, ["tune", "--resume", str(study), "--trials", "2", "-q"])
    args = ["recommend", str(study), "--user", "0", "-k", "2", "--format", "csv"]
    return runner.invoke(app, args)


@pytest.mark.parametrize("how", DAMAGES)
@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("command", ["resume", "recommend"])
def test_a_damaged_study_file(
    tiny_study: Path, tmp_path: Path, command: str, name: str, how: str
) -> None:
    study = copy_study(tiny_study, tmp_path)
    damage(study, name, how)
    outcome = expected(command, study, name, how)
    before = tree_hash(study)
    result = invoke(command, study)
    lines = result.output.strip().splitlines()
    if outcome == "refused":
        assert result.exit_code == 2, result.output
        assert len(lines) == 1 and lines[0].startswith(str(study)), result.output
        assert "Traceback" not in result.output
    else:
        assert result.exit_code == 0, result.output
    if outcome == "repaired":
        assert lines[0].startswith(f"{study / 'study.log'}: the last line was cut short")
        assert list(study.glob("study.log.torn-*"))
    if command == "recommend" or outcome == "refused":  # recommend never writes
        assert tree_hash(study) == before
    if command == "resume" and outcome != "refused":  # Optuna still opens it
        from recexp.tune.optuna_parts import open_study

        assert open_study(study).trials
