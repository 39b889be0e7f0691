"""Jester dataset 1: a real Excel 97 sheet written here, CSV copies, and the Parquet cache.

``xls_workbook`` writes a minimal but genuine .xls: a BIFF8 workbook stream (BOF,
BOUNDSHEET, EOF; then BOF, NUMBER cells, EOF) inside an OLE2 compound file with one
FAT sector, which is enough for sheets up to ~60 KB.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from recexp.data import jester
from recexp.data.jester import JesterOptions, load_jester
from recexp.errors import ConfigError, DataError

END, FREE, FAT, NONE = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def record(kind: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def bof(kind: int) -> bytes:
    return record(0x0809, struct.pack("<HHHHII", 0x0600, kind, 0x0DBB, 0x07CC, 0, 6))


def biff(rows: list[list[float]]) -> bytes:
    cells = b"".join(
        record(0x0203, struct.pack("<HHHd", r, c, 0, v))
        for r, row in enumerate(rows)
        for c, v in enumerate(row)
    )
    sheet = bof(0x10) + cells + record(0x0A)

    def globals_(offset: int) -> bytes:
        name = b"jester"
        bound = struct.pack("<IBBBB", offset, 0, 0, len(name), 0) + name
        return bof(0x05) + record(0x0085, bound) + record(0x0A)

    return globals_(len(globals_(0))) + sheet


def xls_workbook(rows: list[list[float]]) -> bytes:
    stream = biff(rows)
    stream += b"\0" * (max(4096, -(-len(stream) // 512) * 512) - len(stream))
    n = len(stream) // 512
    assert n <= 126, "one FAT sector only"
    fat = [FAT, END] + [3 + k if k < n - 1 else END for k in range(n)]
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16
    header += struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
    header += struct.pack("<9I", 0, 1, 1, 0, 4096, END, 0, END, 0)
    header += struct.pack("<I", 0) + struct.pack("<I", FREE) * 108

    def entry(name: str, kind: int, start: int, size: int, child: int = NONE) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0" if name else b""
        fields = struct.pack("<HBBIII", len(raw), kind, 1, NONE, NONE, child)
        return raw.ljust(64, b"\0") + fields + b"\0" * 36 + struct.pack("<IIi", start, size, 0)

    directory = entry("Root Entry", 5, END, 0, child=1) + entry("Workbook", 2, 2, len(stream))
    directory += entry("", 0, 0, 0) * 2
    fat_sector = struct.pack("<128I", *(fat + [FREE] * (128 - len(fat))))
    return header + fat_sector + directory + stream


def sheet_rows(part: int) -> list[list[float]]:
    """Two users: jokes 1 and 3 rated by the first, joke 2 by the second; 99 elsewhere."""
    first = [2.0, 8.79 - part, 99.0, -10.0] + [99.0] * 97
    second = [1.0, 99.0, 0.5 * part, 99.0] + [99.0] * 97
    return [first, second]


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RECEXP_DATA_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def write_csv(path: Path, rows: list[list[float]]) -> None:
    path.write_text("".join(",".join(f"{v:g}" for v in row) + "\n" for row in rows))


def test_xls_inside_upstream_zips(tmp_path: Path) -> None:
    for part in (1, 2, 3):
        with zipfile.ZipFile(tmp_path / f"jester_dataset_1_{part}.zip", "w") as z:
            z.writestr(f"jester-data-{part}.xls", xls_workbook(sheet_rows(part)))
    r = load_jester(JesterOptions(path=tmp_path))
    frame = r.frame
    assert len(frame) == 9 and frame["user"].nunique() == 6
    assert frame["user"].tolist()[:3] == [100001, 100001, 100002]
    assert frame["item"].tolist()[:3] == [1, 3, 2]
    assert np.allclose(frame["rating"].tolist()[:3], [7.79, -10.0, 0.5])
    assert (r.scale.min, r.scale.max, r.scale.step) == (-10, 10, None)
    assert r.info["count_mismatch_users"] == 0


def test_csv_copies_and_parts(tmp_path: Path) -> None:
    for part in (1, 2, 3):
        write_csv(tmp_path / f"jester-data-{part}.csv", sheet_rows(part))
    r = load_jester(JesterOptions(path=tmp_path, parts=[3, 2]))
    assert r.info["parts"] == [2, 3]
    assert sorted(r.frame["user"].unique()) == [200001, 200002, 300001, 300002]


def test_parquet_cache_skips_the_parser(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_csv(tmp_path / "jester-data-1.csv", sheet_rows(1))
    options = JesterOptions(path=tmp_path, parts=[1])
    first = load_jester(options)
    assert len(list((cache / "parsed").glob("jester-1-*.parquet"))) == 1

    def no_parsing(*args: object) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr(jester, "read_part", no_parsing)
    assert load_jester(options).frame.equals(first.frame)


def test_wrong_shape_and_one_file_many_parts(tmp_path: Path) -> None:
    bad = tmp_path / "jester-data-1.csv"
    bad.write_text("1,2,3\n")
    with pytest.raises(DataError, match="expected 101 columns"):
        load_jester(JesterOptions(path=tmp_path, parts=[1]))
    with pytest.raises(ConfigError, match="dataset.parts: dataset.path is one file"):
        load_jester(JesterOptions(path=bad))


def test_parts_must_not_repeat() -> None:
    with pytest.raises(ValueError, match="parts must not repeat"):
        JesterOptions(parts=[1, 1])
