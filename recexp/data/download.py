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

The known archives and the cache folder are in :mod:`recexp.data.archives`.
"""

from __future__ import annotations

import http.client
import os
import shutil
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from recexp.data.archives import (
    ARCHIVES,
    CHUNK,
    DATASET_ARCHIVES,
    Archive,
    cache_dir,
    cached,
)
from recexp.data.verify import (
    _integrity,
    _record,
    _sidecar,
    file_digest,
    forget,
    hint,
    mismatch,
    verify_cached,
    zip_problem,
)
from recexp.errors import DataError

RETRIES = 3
BACKOFF_S = 1.0
#: the longest wait for any one read (a stalled connection); the total is DEADLINE_ENV's
TIMEOUT_S = 30.0
DEADLINE_ENV = "RECEXP_DOWNLOAD_TIMEOUT"
DEFAULT_DEADLINE_S = 120.0
#: whether downloads may draw a progress bar (only ever on a terminal); --quiet sets False
PROGRESS = True


def verified(archive: Archive, dataset: str = "") -> Path | None:
    """:func:`cached`, with a cached file verified by :func:`verify_cached`."""
    found = cached(archive)
    if found is not None:
        verify_cached(found, archive, dataset)
    return found


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


__all__ = [
    "ARCHIVES",
    "DATASET_ARCHIVES",
    "Archive",
    "add",
    "cache_dir",
    "cached",
    "download",
    "file_digest",
    "forget",
    "verified",
    "verify_cached",
]
