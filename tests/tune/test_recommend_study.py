"""recexp recommend on a study: the selected trial's run directory is data, resolved and
refused unless it lies inside the study (damaged study files: test_fuzz_study_files.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.tune.conftest import copy_study, tree_hash

runner = CliRunner()


@pytest.mark.parametrize("where", ["../outside-run", "ABSOLUTE", "trials/../../outside-run", "."])
def test_a_selected_trial_outside_the_study_is_refused(
    tiny_study: Path, tmp_path: Path, where: str
) -> None:
    """Before: recommend followed ``../outside-run`` and served the model found there."""
    from recexp.cli import app

    study = copy_study(tiny_study, tmp_path)
    record = json.loads((study / "study.json").read_text())
    index = next(i for i, t in enumerate(record["trials"]) if t["number"] == record["selected"])
    outside = tmp_path / "outside-run"  # a real run, so following it would "work"
    shutil.copytree(study / record["trials"][index]["run_dir"], outside)
    where = str(outside) if where == "ABSOLUTE" else where
    record["trials"][index]["run_dir"] = where
    (study / "study.json").write_text(json.dumps(record))
    before = tree_hash(tmp_path)
    result = runner.invoke(app, ["recommend", str(study), "--user", "0"])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        f"{study / 'study.json'}: trials.{index}.run_dir: not a run directory inside the "
        f"study: refused (got {where!r})"
    ]
    assert tree_hash(tmp_path) == before


def test_the_selected_trial_inside_the_study_is_served(tiny_study: Path, tmp_path: Path) -> None:
    from recexp.cli import app

    study = copy_study(tiny_study, tmp_path)
    result = runner.invoke(app, ["recommend", str(study), "--user", "0", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert result.stderr == "" and result.stdout.startswith("rank,item,predicted,ratings")
