"""Issue 17: bad ratings and bad cells never pass silently.

Each test breaks one cell of a tiny ratings file and asserts the one line (or warning),
the exit code where the CLI is involved, and what is (not) on disk.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from recexp.cli import app
from recexp.data.clean import far_from_bulk
from recexp.data.files import FileOptions, load_file
from recexp.data.pipeline import prepare
from recexp.errors import DataError
from recexp.jsonsafe import finite_or_none

runner = CliRunner()

GOOD = "user,item,rating,timestamp\n1,10,4,100\n2,10,3,200\n3,11,5,300\n4,12,2,400\n"


def ratings(tmp_path: Path, text: str, **options: Any):  # type: ignore[no-untyped-def]
    path = tmp_path / "r.csv"
    path.write_text(text)
    return load_file(FileOptions(path=path, **options))


@pytest.mark.parametrize("cell", ["inf", "-inf", "nan", "Infinity"])
def test_non_finite_rating_is_invalid_even_without_a_scale(tmp_path: Path, cell: str) -> None:
    text = GOOD.replace("2,10,3,200", f"2,10,{cell},200")
    with pytest.raises(DataError) as caught:
        ratings(tmp_path, text)
    line = str(caught.value)
    assert "\n" not in line and line.startswith(f"{tmp_path / 'r.csv'}: column 'rating': 1 row")
    assert "the first at line 3" in line
    dropped = ratings(tmp_path, text, invalid_ratings="drop")
    assert (dropped.scale.min, dropped.scale.max) == (2, 5)  # inf never widens the scale
    assert dropped.frame["user"].tolist() == [1, 3, 4]


@pytest.mark.parametrize(
    ("cell", "side"), [("50", "1 above, 0 below"), ("-99", "0 above, 1 below")]
)
def test_outlier_without_declared_scale_warns_with_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], cell: str, side: str
) -> None:
    r = ratings(tmp_path, GOOD.replace("2,10,3,200", f"2,10,{cell},200"))
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"warning: {tmp_path / 'r.csv'}: 1 of 4 ratings")
    assert f"({side})" in err[0] and "declare dataset.rating_scale" in err[0]
    assert r.info["outlier_ratings"] == 1


def test_ordinary_data_gives_no_outlier_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ratings(tmp_path, GOOD)
    assert capsys.readouterr().err == ""
    rng = np.random.default_rng(0)
    stars = rng.integers(1, 6, 10_000).astype(float)
    assert not far_from_bulk(stars)[0].any()
    assert not far_from_bulk(np.r_[np.full(999, 5.0), 1.0])[0].any()  # mostly 5s, one 1
    assert not far_from_bulk(rng.uniform(-10, 10, 1000))[0].any()  # jester-like


def test_declared_scale_turns_the_outlier_into_an_error(tmp_path: Path) -> None:
    text = GOOD.replace("2,10,3,200", "2,10,50,200")
    with pytest.raises(
        DataError, match=r"1 row with a rating outside the scale 1\.\.5, the first at line 3"
    ):
        ratings(tmp_path, text, rating_scale={"min": 1, "max": 5})


def test_one_bad_timestamp_is_one_bad_row(tmp_path: Path) -> None:
    rows = [f"{u},{u % 7},{1 + u % 5},{1000 + u}" for u in range(1, 200)]
    rows[94] = "95,16,3,yesterday"
    text = "user,item,rating,timestamp\n" + "\n".join(rows) + "\n"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no pandas warning may leak
        with pytest.raises(DataError) as caught:
            ratings(tmp_path, text)
        assert str(caught.value) == (
            f"{tmp_path / 'r.csv'}: column 'timestamp': 1 row with a missing or non-numeric "
            "value, the first at line 96; set dataset.invalid_ratings: drop to skip invalid "
            "rows (got 'yesterday')"
        )
        dropped = ratings(tmp_path, text, invalid_ratings="drop")
    assert len(dropped.frame) == 198 and 95 not in dropped.frame["user"].tolist()
    assert dropped.info["invalid_by_column"] == {"timestamp": 1}


def test_bad_user_cell_names_its_column(tmp_path: Path) -> None:
    text = GOOD.replace("3,11,5,300", ",11,5,300")
    with pytest.raises(
        DataError, match=r"column 'user': 1 row .* the first at line 4;.*\(got ''\)"
    ):
        ratings(tmp_path, text)


def test_first_bad_row_across_columns(tmp_path: Path) -> None:
    text = GOOD.replace("3,11,5,300", "3,11,x,300").replace("2,10,3,200", "2,10,3,then")
    with pytest.raises(DataError) as caught:
        ratings(tmp_path, text)
    assert "column 'timestamp': 1 row" in str(caught.value)
    assert "the first at line 3 (1 more invalid rows in all)" in str(caught.value)


def test_headerless_file_counts_lines_from_one(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="the first at line 2"):
        ratings(tmp_path, "1,10,4\n2,10,abc\n", header=False)


def test_one_rating_file_without_early_stopping_fails_before_any_run(tmp_path: Path) -> None:
    data = tmp_path / "one.csv"
    data.write_text("user,item,rating\n1,10,4\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        f"name: one\ndataset: {{name: file, path: {data}}}\nmodel: {{family: mf, dim: 2}}\n"
        "training: {max_epochs: 1, early_stopping: null}\n"
    )
    runs = tmp_path / "runs"
    result = runner.invoke(app, ["train", str(spec), "--runs-dir", str(runs)])
    assert result.exit_code == 2 and not runs.exists()
    assert result.stderr.strip() == (
        f"{spec}: dataset.split: the random split leaves no test ratings out of the 1 "
        "loaded; use more ratings or change the split"
    )
    with pytest.raises(DataError, match="no test ratings"):
        prepare(FileOptions(path=data), seed=1)


def test_finite_or_none_keeps_json_strict() -> None:
    value = {"rmse": math.inf, "mae": float("nan"), "n": 3, "rows": [1.5, np.float32("inf")]}
    safe = finite_or_none(value)
    assert safe == {"rmse": None, "mae": None, "n": 3, "rows": [1.5, None]}
    json.dumps(safe, allow_nan=False)
    assert finite_or_none((np.float64(2.0), "x", None, True)) == [2.0, "x", None, True]
