"""The download cache: known archives, checksums, and verified downloads.

A file enters the cache only whole and verified: it is written to a temporary file
next to its final place and renamed after its checksum matches. The cache is
``$RECEXP_DATA_DIR``, else ``~/.cache/recexp``.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from recexp.errors import DataError

GROUPLENS = "https://files.grouplens.org/datasets/movielens/"
EIGENTASTE = "https://eigentaste.berkeley.edu/dataset/"
COURSES = (
    "https://cf-courses-data.s3.us.cloud-object-storage.appdomain.cloud/"
    "IBM-ML321EN-SkillsNetwork/labs/datasets/ratings.csv"
)
RETRIES = 3
BACKOFF_S = 1.0
TIMEOUT_S = 30.0
CHUNK = 1 << 20


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


def file_digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def mismatch(path: Path, archive: Archive) -> str | None:
    """None when ``path`` has the archive's checksum (or none is known), else why not."""
    if archive.algorithm is None or archive.digest is None:
        return None
    actual = file_digest(path, archive.algorithm)
    if actual == archive.digest:
        return None
    return f"checksum mismatch: expected {archive.algorithm} {archive.digest}, got {actual}"


def hint(archive: Archive, dataset: str) -> str:
    """Where to get a missing file and where to put it."""
    target = cache_dir() / archive.filename
    return (
        f"download {archive.url} yourself and put it at {target} "
        f"(or run `recexp data add {dataset} FILE`), or set dataset.path to it"
    )


def _urls(archive: Archive, mirrors: Sequence[str]) -> list[str]:
    return [archive.url] + [m + archive.filename if m.endswith("/") else m for m in mirrors]


def _transfer(url: str, tmp: Path, label: str) -> None:
    """Copy ``url`` into ``tmp`` with a progress bar; raise on a short or failed transfer."""
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, open(tmp, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        columns = (BarColumn(), DownloadColumn(), TransferSpeedColumn())
        console = Console(stderr=True)
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task(label, total=total)
            done = 0
            while chunk := response.read(CHUNK):
                out.write(chunk)
                done += len(chunk)
                bar.update(task, completed=done)
    if total is not None and done != total:
        raise http.client.IncompleteRead(b"", total - done)


def download(archive: Archive, mirrors: Sequence[str] = (), *, dataset: str = "") -> Path:
    """Fetch ``archive`` into the cache from upstream, then each mirror; return its path."""
    folder = cache_dir()
    dest = folder / archive.filename
    problems: list[str] = []
    for url in _urls(archive, mirrors):
        for attempt in range(RETRIES):
            tmp = folder / f".{archive.filename}.{os.getpid()}.part"
            try:
                folder.mkdir(parents=True, exist_ok=True)
                _transfer(url, tmp, archive.filename)
                wrong = mismatch(tmp, archive)
                if wrong is None:
                    if archive.digest is None:
                        sha256 = file_digest(tmp, "sha256")
                        print(
                            f"{archive.filename}: no published checksum; sha256 {sha256}",
                            file=sys.stderr,
                        )
                    os.replace(tmp, dest)
                    return dest
                problems.append(f"{url}: {wrong} (file deleted)")
                break
            except urllib.error.HTTPError as error:
                retry = error.code >= 500 and attempt + 1 < RETRIES
                if not retry:
                    problems.append(f"{url}: HTTP {error.code} {error.reason}")
                    break
            except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
                if attempt + 1 == RETRIES:
                    reason = getattr(error, "reason", None) or error
                    problems.append(f"{url}: {type(error).__name__}: {reason}")
            finally:
                tmp.unlink(missing_ok=True)
            if attempt + 1 < RETRIES:
                time.sleep(BACKOFF_S * 2**attempt)
    name = dataset or archive.filename
    raise DataError(
        f"{name} needs {archive.filename} and it could not be downloaded "
        f"({'; '.join(problems)}); {hint(archive, name)}"
    )


def add(archive: Archive, source: Path) -> Path:
    """Copy a file the user fetched into the cache, after checking its checksum."""
    wrong = mismatch(source, archive)
    if wrong is not None:
        raise DataError(f"{wrong}; not added", file=str(source))
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{archive.filename}.{os.getpid()}.part"
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, folder / archive.filename)
    finally:
        tmp.unlink(missing_ok=True)
    return folder / archive.filename
