"""course-ratings, generic ``file`` and ``recbole`` loaders, and the bad-input policies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from recexp.data.files import (
    CourseRatingsOptions,
    FileOptions,
    RecBoleOptions,
    load_course_ratings,
    load_file,
    load_recbole,
)
from recexp.data.pipeline import prepare
from recexp.errors import DataError

COURSES = "user,item,rating\n1889878,CC0101EN,5\n1342067,CL0101EN,3\n1990814,ML0120ENv3,4\n"


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RECEXP_DATA_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def table(tmp_path: Path, text: str, name: str = "r.csv", **options: Any) -> pd.DataFrame:
    path = tmp_path / name
    path.write_text(text)
    ratings = load_file(FileOptions(path=path, **options))
    ratings.frame.attrs["info"] = ratings.info
    return ratings.frame


def test_course_ratings_string_items_and_inferred_scale(tmp_path: Path, cache: Path) -> None:
    cache.mkdir()
    (cache / "course-ratings.csv").write_text(COURSES)
    r = load_course_ratings(CourseRatingsOptions())
    assert r.frame["item"].tolist() == ["CC0101EN", "CL0101EN", "ML0120ENv3"]
    assert r.frame["user"].dtype == np.int32
    assert (r.scale.min, r.scale.max, r.scale.step) == (3, 5, 1)
    (tmp_path / "ratings.csv").write_text(COURSES)
    declared = {"min": 1, "max": 5, "step": 1}
    r = load_course_ratings(CourseRatingsOptions(path=tmp_path, rating_scale=declared))
    assert r.scale.min == 1 and len(r.frame) == 3


@pytest.mark.parametrize(
    ("text", "options"),
    [
        ("user,item,rating\n1,10,4\n2,20,3.5\n", {}),
        ("1\t10\t4\t99\n2\t20\t3.5\t98\n", {"format": "tsv"}),
        ("1::10::4::99\n2::20::3.5::98\n", {}),
        ("1||10||4\n2||20||3.5\n", {"sep": "||", "header": False}),
        (
            "u;i;score\n1;10;4\n2;20;3.5\n",
            {"columns": {"user": "u", "item": "i", "rating": "score"}},
        ),
        ("10 1 4\n20 2 3.5\n", {"sep": r"\s+", "columns": {"user": 1, "item": 0, "rating": 2}}),
    ],
)
def test_file_formats(tmp_path: Path, text: str, options: dict[str, Any]) -> None:
    frame = table(tmp_path, text, **options)
    assert frame[["user", "item"]].values.tolist() == [[1, 10], [2, 20]]
    assert frame["rating"].tolist() == [4.0, 3.5]


def test_file_parquet_with_timestamps(tmp_path: Path) -> None:
    path = tmp_path / "r.parquet"
    pd.DataFrame(
        {"user": ["a", "b"], "item": [1, 2], "rating": [1.0, 2.0], "timestamp": [5, 6]}
    ).to_parquet(path)
    r = load_file(FileOptions(path=path))
    assert r.frame["user"].tolist() == ["a", "b"] and r.frame["timestamp"].tolist() == [5, 6]


def test_iso_dates_become_seconds(tmp_path: Path) -> None:
    text = "user,item,rating,timestamp\n1,1,3,1970-01-02\n"
    assert table(tmp_path, text)["timestamp"].tolist() == [86400]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "user,item,rating\n1,1,abc\n2,2,4\n",
            "column 'rating': 1 row with a missing or non-numeric value, the first at line 2",
        ),
        (
            "user,item,rating\n1,1,\n2,2,4\n",
            "column 'rating': 1 row .* the first at line 2;.*got ''",
        ),
        ("user,item,rating\n1,1,9\n2,2,4\n", "1 row with a rating outside the scale 1..5"),
        ("user,item,score\n1,1,3\n", "missing column 'rating' for rating"),
        ("", "the file is empty"),
        ("user,item,rating\n", "no ratings in the file"),
    ],
)
def test_bad_input_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(DataError, match=message) as caught:
        table(tmp_path, text, rating_scale={"min": 1, "max": 5, "step": 1})
    assert "\n" not in str(caught.value) and "r.csv" in str(caught.value)


def test_drop_policy_counts_rows(tmp_path: Path) -> None:
    text = "user,item,rating\n1,1,abc\n2,2,9\n3,3,4\n"
    frame = table(
        tmp_path, text, invalid_ratings="drop", rating_scale={"min": 1, "max": 5, "step": 1}
    )
    assert frame["user"].tolist() == [3]
    info = frame.attrs["info"]
    assert (info["rows_read"], info["invalid_rows"], info["out_of_scale_rows"]) == (3, 1, 1)


@pytest.mark.parametrize(
    ("policy", "expected"),
    [("last", [(1, 1, 5.0), (2, 2, 4.0)]), ("mean", [(1, 1, 4.0), (2, 2, 4.0)])],
)
def test_duplicates(tmp_path: Path, policy: str, expected: list[tuple[int, int, float]]) -> None:
    text = "user,item,rating,timestamp\n1,1,5,30\n2,2,4,10\n1,1,3,20\n"
    frame = table(tmp_path, text, duplicates=policy)  # "last" means latest timestamp
    rows = sorted(zip(frame["user"], frame["item"], frame["rating"], strict=True))
    assert rows == expected and frame.attrs["info"]["duplicate_rows"] == 1


def test_duplicates_without_timestamps_keep_file_order(tmp_path: Path) -> None:
    frame = table(tmp_path, "user,item,rating\n1,1,5\n1,1,2\n")
    assert frame["rating"].tolist() == [2.0]


def test_duplicates_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="1 duplicate .* e.g. user 1 item 1"):
        table(tmp_path, "user,item,rating\n1,1,5\n1,1,2\n", duplicates="error")


def test_predefined_train_and_test_files(tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text("user,item,rating\n1,1,5\n1,2,3\n2,1,4\n2,3,2\n")
    (tmp_path / "test.csv").write_text("user,item,rating\n1,3,1\n")
    split = {
        "strategy": "predefined",
        "train": str(tmp_path / "train.csv"),
        "test": str(tmp_path / "test.csv"),
    }
    data = prepare(FileOptions(split=split), seed=0)
    assert (len(data.train), len(data.val), len(data.test)) == (4, 0, 1)
    assert data.test.rating.tolist() == [1.0]


INTER = (
    "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
    "196\t242\t3\t881250949\n186\t302\t3\t891717742\n"
)


def test_recbole_atomic_files(tmp_path: Path) -> None:
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    (folder / "ml-100k.inter").write_text(INTER)
    (folder / "ml-100k.item").write_text(
        "item_id:token\tmovie_title:token_seq\tgenre:token_seq\n242\tKolya\tComedy\n"
        "302\tL.A. Confidential\tCrime Film-Noir\n"
    )
    r = load_recbole(RecBoleOptions(path=folder))
    assert r.frame[["user", "item"]].values.tolist() == [[196, 242], [186, 302]]
    assert r.frame["timestamp"].tolist() == [881250949, 891717742]
    assert r.item_features is not None and r.user_features is None
    assert r.item_features.loc["302", "genre"] == ["Crime", "Film-Noir"]
    only = load_recbole(RecBoleOptions(path=folder / "ml-100k.inter", features=False))
    assert only.item_features is None and len(only.frame) == 2


def test_recbole_missing_inter(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="dataset.path: no .inter file"):
        load_recbole(RecBoleOptions(path=tmp_path))


def test_path_required_unless_split_names_files() -> None:
    with pytest.raises(ValueError, match="path is required, unless split names train and test"):
        FileOptions()
    with pytest.raises(ValueError, match="path is required"):
        RecBoleOptions(split={"strategy": "predefined", "fold": "u1"})
