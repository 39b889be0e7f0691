"""Where a dataset's files are: ``dataset.path``, the cache, or a fresh download.

A :class:`Source` is a zip archive, a folder or a single file; loaders ask it for
files by base name (``ratings.dat``), so ``ml-1m/ratings.dat`` in a zip, an unpacked
``ml-1m/`` folder and a folder holding that folder all work. Only the names a loader
asks for are ever read, and archives with absolute or ``..`` member paths are refused.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING

from recexp.data.base import FileDatasetOptions
from recexp.data.download import Archive, cache_dir, cached, download, forget, verify_cached
from recexp.errors import DataError

if TYPE_CHECKING:
    import pandas as pd


def _unsafe(member: str) -> bool:
    path = PurePosixPath(member.replace("\\", "/"))
    return path.is_absolute() or ".." in path.parts or ":" in member.split("/")[0]


class UnsafeArchiveError(DataError):
    """A zip with an absolute or ``..`` member path."""


class Source:
    """A zip archive (``kind="zip"``), a folder, or one file standing for ``primary``."""

    def __init__(self, kind: str, location: Path, primary: str | None = None) -> None:
        self.kind, self.location, self.primary = kind, location, primary
        self._members: dict[str, str] = {}
        if kind == "zip":
            with zipfile.ZipFile(location) as archive:
                names = [n for n in archive.namelist() if not n.endswith("/")]
            for member in sorted(names, key=lambda n: (n.count("/"), n)):
                if _unsafe(member):
                    raise UnsafeArchiveError(
                        f"archive has an unsafe member path {member!r}; refusing to read it",
                        file=str(location),
                    )
                self._members.setdefault(PurePosixPath(member).name, member)

    def find(self, name: str) -> str | None:
        """The member or file path that stands for ``name``, or None."""
        if self.kind == "zip":
            return self._members.get(name)
        if self.kind == "file":
            if name == self.primary:
                return str(self.location)
            near = self.location.parent / name
            return str(near) if near.is_file() else None
        direct = self.location / name
        if direct.is_file():
            return str(direct)
        nested = sorted(p for p in self.location.glob(f"*/{name}") if p.is_file())
        return str(nested[0]) if nested else None

    def has(self, name: str) -> bool:
        return self.find(name) is not None

    def label(self, name: str) -> str:
        """How messages name the file: ``ml-1m.zip:ml-1m/ratings.dat`` or a path."""
        found = self.find(name) or name
        return f"{self.location}:{found}" if self.kind == "zip" else found

    def _require(self, name: str) -> str:
        found = self.find(name)
        if found is None:
            raise DataError(f"{name} not found here", file=str(self.location))
        return found

    @contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        """The file ``name`` opened for binary reading."""
        found = self._require(name)
        if self.kind == "zip":
            with zipfile.ZipFile(self.location) as archive, archive.open(found) as f:
                yield f
        else:
            with open(found, "rb") as f:
                yield f

    def stamp(self, name: str) -> str:
        """Identifies the file's current content cheaply: path, size and mtime."""
        found = self._require(name)
        path = self.location if self.kind == "zip" else Path(found)
        stat = path.stat()
        return f"{path.resolve()}|{found}|{stat.st_size}|{stat.st_mtime_ns}"


def _source_at(path: Path, members: Sequence[str]) -> Source:
    if zipfile.is_zipfile(path):
        return Source("zip", path)
    return Source("file", path, primary=members[0])


def _from_cache(path: Path, members: Sequence[str]) -> Source:
    """The cached (or just downloaded) file as a Source; an unsafe zip leaves the cache."""
    try:
        return _source_at(path, members)
    except UnsafeArchiveError as error:
        forget(path)
        raise UnsafeArchiveError(
            error.problem.replace("refusing to read it", "refused and removed from the cache"),
            file=str(path),
        ) from None


def locate(options: FileDatasetOptions, archive: Archive, members: Sequence[str]) -> Source:
    """Find ``archive``'s files: ``options.path``, then the cache, then a download.

    ``members`` are the base names the loader reads, the main one first; a folder
    counts when it holds any of them. A cached file is verified on every read
    (:func:`recexp.data.download.verify_cached`); one with an unsafe member path is
    removed from the cache.
    """
    if options.path is not None:
        path = options.path.expanduser()
        if not path.exists():
            raise DataError("no such file or folder", key="dataset.path", got=str(options.path))
        if path.is_file():
            source = _source_at(path, members)
        elif (path / archive.filename).is_file():
            source = _source_at(path / archive.filename, members)
        else:
            source = Source("dir", path)
        if not any(source.has(m) for m in members):
            wanted = " or ".join([archive.filename, *members])
            raise DataError(f"holds no {wanted}", key="dataset.path", got=str(options.path))
        return source
    found = cached(archive)
    if found is not None and found.is_file():
        verify_cached(found, archive, options.name)
        return _from_cache(found, members)
    if found is not None:
        source = Source("dir", found)
        if any(source.has(m) for m in members):
            return source
    return _from_cache(download(archive, options.mirrors, dataset=options.name), members)


def cached_frame(stamp: str, tag: str, build: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """``build()``'s frame, parsed once and kept as Parquet in ``<cache>/parsed``."""
    import pandas as pd

    key = hashlib.sha256(f"{tag}|{stamp}|1".encode()).hexdigest()[:16]
    path = cache_dir() / "parsed" / f"{tag}-{key}.parquet"
    if path.is_file():
        try:
            return pd.read_parquet(path)
        except (OSError, ValueError):
            path.unlink(missing_ok=True)
    frame = build()
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache only costs speed
    finally:
        tmp.unlink(missing_ok=True)
    return frame
