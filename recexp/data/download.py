"""The download cache: known archives, checksums, and verified downloads.

A file enters the cache only whole and verified: it is written to a temporary file
next to its final place and renamed after its checksum matches (a zip without a
published checksum must pass its CRC check instead). The cache is
``$RECEXP_DATA_DIR``, else ``~/.cache/recexp``.

Every read of a cached archive is verified again (:func:`verify_cached`): against its
published checksum, else (zips) its CRCs. A sidecar ``.NAME.verified`` records size,
mtime and what was checked, so the file is hashed again only when it changes. A file
that fails names itself, to be deleted.

Each URL gets ``$RECEXP_DOWNLOAD_TIMEOUT`` seconds (default 120), retries included, as a
total deadline: a server that trickles bytes is cut off too. While downloading, a
progress bar with the rate shows on stderr when it is a terminal (:data:`PROGRESS`).
A download killed half way leaves ``.NAME.PID.part``; the next download sweeps those
whose process is gone.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import shutil
import sys
import time
import urllib.error
import urllib.request
import zipfile
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
#: the longest wait for any one read (a stalled connection); the total is DEADLINE_ENV's
TIMEOUT_S = 30.0
DEADLINE_ENV = "RECEXP_DOWNLOAD_TIMEOUT"
DEFAULT_DEADLINE_S = 120.0
CHUNK = 1 << 20
#: whether downloads may draw a progress bar (only ever on a terminal); --quiet sets False
PROGRESS = True


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


def zip_problem(path: Path) -> str | None:
    """None when ``path`` is a readable zip whose members all pass their CRC, else why not."""
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        return f"damaged zip ({type(error).__name__}: {error})"
    return None if bad is None else f"damaged zip (member {bad!r} fails its CRC check)"


def _integrity(path: Path, archive: Archive) -> str | None:
    """What a cached or downloaded file is checked by: ``md5:<hex>``, ``zip-crc`` or None."""
    if archive.algorithm and archive.digest:
        return f"{archive.algorithm}:{archive.digest}"
    if archive.filename.endswith(".zip"):
        return "zip-crc"
    return None


def _sidecar(path: Path) -> Path:
    return path.with_name(f".{path.name}.verified")


def _stat_key(path: Path) -> dict[str, int]:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _record(path: Path, check: str) -> None:
    """Note that ``path`` passed ``check`` at its current size and mtime (best effort)."""
    with contextlib.suppress(OSError):  # a read-only cache only costs a hash on the next read
        _sidecar(path).write_text(json.dumps({**_stat_key(path), "check": check}))


def _recorded(path: Path, check: str) -> bool:
    try:
        note = json.loads(_sidecar(path).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(note, dict) and note == {**_stat_key(path), "check": check}


def verify_cached(path: Path, archive: Archive, dataset: str = "") -> None:
    """A one-line DataError, naming the file to delete, when a cached archive is wrong.

    Checked against the published checksum, else (zips) the members' CRCs; cheap when
    the sidecar says this size and mtime passed before. Folders are not checked.
    """
    check = _integrity(path, archive)
    if check is None or not path.is_file() or _recorded(path, check):
        return
    wrong = mismatch(path, archive) if archive.digest else zip_problem(path)
    if wrong is not None:
        again = f"`recexp data fetch {dataset}`" if dataset else "a new download"
        raise DataError(
            f"the cached file is wrong ({wrong}); delete it and run {again}", file=str(path)
        )
    _record(path, check)


def verified(archive: Archive, dataset: str = "") -> Path | None:
    """:func:`cached`, with a cached file verified by :func:`verify_cached`."""
    found = cached(archive)
    if found is not None:
        verify_cached(found, archive, dataset)
    return found


def forget(path: Path) -> None:
    """Remove a cached file and its sidecar."""
    path.unlink(missing_ok=True)
    _sidecar(path).unlink(missing_ok=True)


def hint(archive: Archive, dataset: str) -> str:
    """Where to get a missing file and where to put it."""
    target = cache_dir() / archive.filename
    return (
        f"download {archive.url} yourself and put it at {target} "
        f"(or run `recexp data add {dataset} FILE`), or set dataset.path to it"
    )


def deadline_s() -> float:
    """Seconds one URL may take in all: ``$RECEXP_DOWNLOAD_TIMEOUT``, else 120."""
    raw = os.environ.get(DEADLINE_ENV, "").strip()
    if not raw:
        return DEFAULT_DEADLINE_S
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not (value > 0 and value != float("inf")):
        raise DataError("must be a number of seconds above 0", key=DEADLINE_ENV, got=raw)
    return value


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process, or unknowable: keep its file
    return True


def sweep_stale_parts(folder: Path) -> list[Path]:
    """Delete ``.NAME.PID.part`` files whose process is gone; returns what was deleted."""
    swept = []
    for part in folder.glob(".*.part") if folder.is_dir() else ():
        pid = part.name.removesuffix(".part").rsplit(".", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            part.unlink(missing_ok=True)
            swept.append(part)
    return swept


def _urls(archive: Archive, mirrors: Sequence[str]) -> list[str]:
    return [archive.url] + [m + archive.filename if m.endswith("/") else m for m in mirrors]


class _DeadlinePassed(Exception):
    """The URL's total time (``$RECEXP_DOWNLOAD_TIMEOUT``) ran out."""


def _transfer(url: str, tmp: Path, label: str, deadline: float) -> None:
    """Copy ``url`` into ``tmp`` by ``deadline`` (monotonic); raise on a short or failed one.

    Reads return whatever arrived (``read1``), so the deadline is checked at least every
    :data:`TIMEOUT_S` however slowly the bytes come.
    """
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    def left() -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _DeadlinePassed
        return remaining

    with (
        urllib.request.urlopen(url, timeout=min(TIMEOUT_S, left())) as response,
        open(tmp, "wb") as out,
    ):
        total = int(response.headers.get("Content-Length") or 0) or None
        console = Console(stderr=True)
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
        )
        show = PROGRESS and console.is_terminal
        with Progress(*columns, console=console, transient=True, disable=not show) as bar:
            task = bar.add_task(label, total=total)
            done = 0
            while True:
                left()
                chunk = response.read1(CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                done += len(chunk)
                bar.update(task, completed=done)
    if total is not None and done != total:
        raise http.client.IncompleteRead(b"", total - done)


def download(archive: Archive, mirrors: Sequence[str] = (), *, dataset: str = "") -> Path:
    """Fetch ``archive`` into the cache from upstream, then each mirror; return its path.

    Each URL gets :func:`deadline_s` seconds in all, its retries included.
    """
    folder = cache_dir()
    dest = folder / archive.filename
    problems: list[str] = []
    limit = deadline_s()
    sweep_stale_parts(folder)
    check = _integrity(dest, archive)
    for url in _urls(archive, mirrors):
        deadline = time.monotonic() + limit
        for attempt in range(RETRIES):
            tmp = folder / f".{archive.filename}.{os.getpid()}.part"
            try:
                folder.mkdir(parents=True, exist_ok=True)
                _transfer(url, tmp, archive.filename, deadline)
                wrong = mismatch(tmp, archive) if archive.digest else None
                if wrong is None and check == "zip-crc":
                    wrong = zip_problem(tmp)
                if wrong is None:
                    if archive.digest is None:
                        sha256 = file_digest(tmp, "sha256")
                        print(
                            f"{archive.filename}: no published checksum; sha256 {sha256}",
                            file=sys.stderr,
                        )
                    os.replace(tmp, dest)
                    if check is not None:
                        _record(dest, check)
                    return dest
                problems.append(f"{url}: {wrong} (file deleted)")
                break
            except _DeadlinePassed:
                problems.append(f"{url}: not complete within {limit:g} s ({DEADLINE_ENV})")
                break
            except urllib.error.HTTPError as error:
                retry = error.code >= 500 and attempt + 1 < RETRIES
                if not retry:
                    problems.append(f"{url}: HTTP {error.code} {error.reason}")
                    break
            except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
                if attempt + 1 == RETRIES or time.monotonic() >= deadline:
                    reason = getattr(error, "reason", None) or error
                    problems.append(f"{url}: {type(error).__name__}: {reason}")
                    break
            finally:
                tmp.unlink(missing_ok=True)
            if attempt + 1 < RETRIES:
                time.sleep(max(0.0, min(BACKOFF_S * 2**attempt, deadline - time.monotonic())))
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
    dest = folder / archive.filename
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    if archive.digest:
        _record(dest, f"{archive.algorithm}:{archive.digest}")
    else:
        _sidecar(dest).unlink(missing_ok=True)  # checked on its first read
    return dest
