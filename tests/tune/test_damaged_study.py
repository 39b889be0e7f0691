"""recexp tune --resume on a damaged study: checked before anything is written (one line
naming the file, exit 2, the study unchanged), and a torn journal tail repaired."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.tune.conftest import TINY, copy_study, tree_hash, write

runner = CliRunner()


def resume(study: Path, *more: str):  # type: ignore[no-untyped-def]
    from recexp.cli import app

    return runner.invoke(app, ["tune", "--resume", str(study), "--trials", "2", "-q", *more])


def refused(study: Path, line: str, *more: str) -> None:
    before = tree_hash(study)
    result = resume(study, *more)
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [line]
    assert tree_hash(study) == before


@pytest.mark.parametrize(
    ("file", "content", "problem"),
    [
        ("tune.json", "[1, 2]", "the file must hold a mapping (got 'list')"),
        ("tune.json", '{"trials": 2}', "spec: required key is missing"),
        ("tune.json", "", "empty file"),
        ("study.log", "", "empty: the journal holds no study"),
        ("study.log", "hello\n", "line 1 is not an Optuna journal record (got 'hello')"),
        ("study.log", '{"a": 1}\n', "line 1 is not an Optuna journal record (got '{\"a\": 1}')"),
        ("status.json", "[]", "the file must hold a mapping; remove it if no process runs "
         "the study: --resume writes it again (got 'list')"),
        ("study.json", '{"trials": 3}', "trials: no list of trials in it; remove it if no "
         "process runs the study: --resume writes it again"),
        ("spec.yaml", "- 1\n", "the file must be a YAML mapping (got 'list')"),
        ("config.yaml", "name: tiny-mf\nseed: 7\ndatas", "cut short: no newline at its end, "
         "where recexp ends what it writes"),
    ],
)  # fmt: skip
def test_a_damaged_file_is_one_line_and_nothing_changes(
    tiny_study: Path, tmp_path: Path, file: str, content: str, problem: str
) -> None:
    study = copy_study(tiny_study, tmp_path)
    (study / file).write_text(content)
    refused(study, f"{study / file}: {problem}")


def test_the_settings_are_checked_key_by_key(tiny_study: Path, tmp_path: Path) -> None:
    study = copy_study(tiny_study, tmp_path)
    settings = json.loads((study / "tune.json").read_text())
    (study / "tune.json").write_text(json.dumps({**settings, "sessions": {"a": 1}}))
    refused(study, f"{study / 'tune.json'}: sessions: expected a list (got {{'a': 1}})")
    (study / "tune.json").write_text(json.dumps({**settings, "sampler": "grd"}))
    refused(
        study, f"{study / 'tune.json'}: sampler: expected one of: tpe, random, grid (got 'grd')"
    )
    space = {"model.l2": {"kind": "float", "low": 1, "high": 0}}
    (study / "tune.json").write_text(json.dumps({**settings, "space": space}))
    refused(study, f"{study / 'tune.json'}: space.model.l2: low must be below high")


@pytest.mark.parametrize("name", ["study.log", "config.yaml", "spec.yaml"])
def test_a_missing_file_is_one_line_and_nothing_changes(
    tiny_study: Path, tmp_path: Path, name: str
) -> None:
    study = copy_study(tiny_study, tmp_path)
    (study / name).unlink()
    problem = {
        "study.log": "missing: the study's Optuna journal (its trials) is not there",
    }.get(name, "missing from the study directory")
    refused(study, f"{study / name}: {problem}")


def test_a_journal_cut_mid_record_is_repaired_and_the_study_goes_on(
    tiny_study: Path, tmp_path: Path
) -> None:
    """Before: the resume appended after the half record, and from then on neither
    recexp nor Optuna could open the study: its history was lost."""
    from recexp.tune.optuna_parts import open_study

    study = copy_study(tiny_study, tmp_path)
    journal = study / "study.log"
    whole = journal.read_bytes()
    torn = whole[: whole.rstrip(b"\n").rfind(b"\n") + 1 + 30]  # 30 bytes of the last record
    journal.write_bytes(torn)
    kept_trials = len(open_study(study).trials)  # Optuna reads it as it is (tail skipped)
    result = resume(study, "--trials", "3")
    assert result.exit_code == 0, result.output
    (line,) = result.output.strip().splitlines()
    (copy,) = study.glob("study.log.torn-*")
    assert line == (
        f"{journal}: the last line was cut short (30 bytes of a record being written when "
        f"the study stopped): cut, the journal kept as {copy.name}"
    )
    assert copy.read_bytes() == torn
    assert journal.read_bytes().startswith(torn[: torn.rfind(b"\n") + 1])
    trials = open_study(study).trials  # Optuna's own loader opens it afterwards
    assert len(trials) > kept_trials
    record = json.loads((study / "study.json").read_text())
    assert record["counts"]["complete"] == 3


def test_a_space_file_with_a_key_given_twice_is_refused(tmp_path: Path) -> None:
    from recexp.cli import app

    space = write(
        tmp_path / "space.yaml",
        "model.l2: {kind: float, low: 0.01, high: 0.1}\n"
        "model.l2: {kind: float, low: 0.2, high: 0.3}\n",
    )
    runs = tmp_path / "runs"
    args = ["tune", str(TINY), "--space", str(space), "--trials", "1", "--runs-dir", str(runs)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.output.strip() == (
        f"{space}: model.l2: duplicate key 'model.l2' on lines 1 and 2; keep one of them"
    )
    assert not runs.exists()


def test_json_with_a_key_given_twice_is_refused(tmp_path: Path) -> None:
    from recexp.errors import ConfigError
    from recexp.readers import read_json

    path = write(tmp_path / "x.json", '{"a": 1, "a": 2}')
    with pytest.raises(ConfigError) as error:
        read_json(path)
    assert error.value.line() == f"{path}: malformed JSON: duplicate key 'a'"
