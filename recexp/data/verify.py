"""Verifying cached archives on every read: against the published checksum, else (zips)
their CRCs. A sidecar ``.NAME.verified`` records size, mtime and what was checked, so the
file is hashed again only when it changes. A file that fails names itself, to be deleted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from recexp.data.archives import CHUNK, cache_dir
from recexp.errors import DataError

if TYPE_CHECKING:
    from recexp.data.archives import Archive


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
