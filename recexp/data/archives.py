"""The archives recexp knows (file names, upstream URLs, checksums), which datasets need
which, and where the cache is: ``$RECEXP_DATA_DIR``, else ``~/.cache/recexp``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20
GROUPLENS = "https://files.grouplens.org/datasets/movielens/"
EIGENTASTE = "https://eigentaste.berkeley.edu/dataset/"
COURSES = (
    "https://cf-courses-data.s3.us.cloud-object-storage.appdomain.cloud/"
    "IBM-ML321EN-SkillsNetwork/labs/datasets/ratings.csv"
)


@dataclass(frozen=True)
class Archive:
    """One upstream file: its cache name, URL, checksum and (for zips) top folder."""

    filename: str
    url: str
    algorithm: str | None = None
    digest: str | None = None
    folder: str = ""


def _archives(*items: Archive) -> dict[str, Archive]:
    return {a.filename: a for a in items}


def _movielens(stem: str, md5: str | None, folder: str = "") -> Archive:
    return Archive(f"{stem}.zip", f"{GROUPLENS}{stem}.zip", md5 and "md5", md5, folder or stem)


def _jester(part: int, sha256: str) -> Archive:
    name = f"jester_dataset_1_{part}.zip"
    return Archive(name, EIGENTASTE + name, "sha256", sha256)


#: Every file recexp knows how to fetch, by cache file name. Hashes from the data README.
ARCHIVES = _archives(
    _movielens("ml-100k", "0e33842e24a9c977be4e0107933c0723"),
    _movielens("ml-1m", "c4d9eecfca2ab87c1945afe126590906"),
    _movielens("ml-10m", "ce571fd55effeba0271552578f2648bd", folder="ml-10M100K"),
    _movielens("ml-20m", "cd245b17a1ae2cc31bb14903e1204af3"),
    _movielens("ml-25m", "6b51fb2759a8657d3bfcbfc42b592ada"),
    # latest-small changes between releases; no hash is published, so none is checked.
    _movielens("ml-latest-small", None),
    _jester(1, "cb7841756ded125b15f3d95c9f8241224065e96354c132a46ae4214deeab7615"),
    _jester(2, "4d312fd824d8c8cb2c9c952a7b1fb7c00d1f5fd3ece370f7285aa701d371748b"),
    _jester(3, "7f548d3762d3506cf7cd37d8cb9e3adb67984a7da7aa2d2096d5e0b1b884758d"),
    Archive("course-ratings.csv", COURSES),
)

#: Which archives each downloadable dataset needs.
DATASET_ARCHIVES: dict[str, tuple[str, ...]] = {
    "movielens-100k": ("ml-100k.zip",),
    "movielens-1m": ("ml-1m.zip",),
    "movielens-10m": ("ml-10m.zip",),
    "movielens-20m": ("ml-20m.zip",),
    "movielens-25m": ("ml-25m.zip",),
    "movielens-latest-small": ("ml-latest-small.zip",),
    "jester": tuple(f"jester_dataset_1_{p}.zip" for p in (1, 2, 3)),
    "course-ratings": ("course-ratings.csv",),
}


def cache_dir() -> Path:
    """``$RECEXP_DATA_DIR``, else ``~/.cache/recexp`` (not created here)."""
    env = os.environ.get("RECEXP_DATA_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "recexp"


def cached(archive: Archive) -> Path | None:
    """The archive in the cache, or its unpacked folder, or None."""
    folder = cache_dir()
    if (folder / archive.filename).is_file():
        return folder / archive.filename
    for name in dict.fromkeys([archive.folder, archive.filename.split(".")[0]]):
        if name and (folder / name).is_dir():
            return folder / name
    return None
