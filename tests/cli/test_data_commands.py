"""``recexp data`` commands: list, fetch, info, add (no network: file:// URLs only)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recexp.cli.data import app
from recexp.data import download

U_DATA = "1\t1\t5\t874965758\n1\t2\t3\t876893171\n2\t1\t4\t878542960\n"
runner = CliRunner()


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RECEXP_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(download, "BACKOFF_S", 0.0)
    return tmp_path / "cache"


@pytest.fixture
def archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tiny ml-100k.zip whose checksum the archive table expects, served as file://."""
    path = tmp_path / "upstream" / "ml-100k.zip"
    path.parent.mkdir()
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("ml-100k/u.data", U_DATA)
    known = replace(
        download.ARCHIVES["ml-100k.zip"],
        url=path.as_uri(),
        digest=hashlib.md5(path.read_bytes()).hexdigest(),
    )
    monkeypatch.setitem(download.ARCHIVES, "ml-100k.zip", known)
    return path


def test_list_shows_cache_state(archive: Path, cache: Path) -> None:
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0
    line = next(x for x in result.output.splitlines() if "movielens-100k" in x)
    assert "no" in line
    runner.invoke(app, ["fetch", "movielens-100k"])
    line = next(x for x in runner.invoke(app, ["list"]).output.splitlines() if "100k" in x)
    assert "yes" in line and "B" in line


def test_fetch_downloads_and_verifies(archive: Path, cache: Path) -> None:
    result = runner.invoke(app, ["fetch", "movielens-100k"])
    assert result.exit_code == 0, result.output
    assert (cache / "ml-100k.zip").read_bytes() == archive.read_bytes()


def test_fetch_errors_are_one_line(archive: Path) -> None:
    result = runner.invoke(app, ["fetch", "synthetic"])
    assert result.exit_code == 2
    assert result.output.strip() == "name: this dataset has nothing to download (got 'synthetic')"
    result = runner.invoke(app, ["fetch", "movielens-1k"])
    assert result.exit_code == 2 and "unknown dataset (did you mean" in result.output


def test_info_by_name_and_path(archive: Path) -> None:
    result = runner.invoke(app, ["info", "movielens-100k", "--path", str(archive)])
    assert result.exit_code == 0, result.output
    for expected in ("rows", "density", "3: 1, 4: 1, 5: 1", "time range", "1997"):
        assert expected in result.output


def test_info_needs_path_for_file_dataset() -> None:
    result = runner.invoke(app, ["info", "file"])
    assert result.exit_code == 2
    assert result.output == "dataset: path is required, unless split names train and test files\n"


def test_add_by_checksum(archive: Path, tmp_path: Path, cache: Path) -> None:
    renamed = tmp_path / "download (1).zip"
    renamed.write_bytes(archive.read_bytes())
    result = runner.invoke(app, ["add", "movielens-100k", str(renamed)])
    assert result.exit_code == 0, result.output
    assert (cache / "ml-100k.zip").is_file()


def test_add_rejects_wrong_file(archive: Path, tmp_path: Path) -> None:
    wrong = tmp_path / "ml-100k.zip"
    wrong.write_bytes(b"not the archive")
    result = runner.invoke(app, ["add", "movielens-100k", str(wrong)])
    assert result.exit_code == 2 and "checksum mismatch: expected md5" in result.output


def test_importing_the_app_does_not_import_pandas() -> None:
    code = "import sys, recexp.cli.data; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_info_from_spec_shows_split(archive: Path, tmp_path: Path) -> None:
    pytest.importorskip("recexp.config")
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "name: t\nseed: 1\nmodel: {family: mf}\n"
        f"dataset:\n  name: movielens-100k\n  path: {archive}\n"
        "  split: {strategy: by_user, test_k: 1}\n"
    )
    result = runner.invoke(app, ["info", str(spec)])
    assert result.exit_code == 0, result.output
    assert "split by_user (train/val/test)" in result.output and "2 / 0 / 1" in result.output
