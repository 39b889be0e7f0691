"""Issue 17: the download cache verifies what it serves; downloads have a total deadline.

A local ``http.server`` on 127.0.0.1, started in each test and stopped after it; every
wait is bounded by ``RECEXP_DOWNLOAD_TIMEOUT`` of a second or two.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from recexp.data import download, verify
from recexp.data.download import Archive
from recexp.data.movielens import MovieLensOptions, load_movielens
from recexp.errors import DataError

from .test_download import U_DATA, ml100k_zip


class Trickle:
    """Serves ``body`` at any path, one byte every ``pause`` seconds after the headers."""

    def __init__(self, body: bytes, pause: float) -> None:
        stop = self.stop = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    for byte in body:
                        if stop.wait(pause):
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                except OSError:
                    return  # the client gave up

            def log_message(self, *args: object) -> None:
                pass

        ThreadingHTTPServer.daemon_threads = True
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RECEXP_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(download, "BACKOFF_S", 0.0)
    (tmp_path / "cache").mkdir()
    return tmp_path / "cache"


@pytest.fixture
def known_ml100k(monkeypatch: pytest.MonkeyPatch) -> Archive:
    """ml-100k.zip with the checksum of :func:`ml100k_zip` as its published one."""
    body = ml100k_zip()
    archive = Archive(
        "ml-100k.zip", "http://127.0.0.1:9/unused", "md5", hashlib.md5(body).hexdigest()
    )
    monkeypatch.setitem(download.ARCHIVES, "ml-100k.zip", archive)
    return archive


@pytest.fixture
def unpublished_ml100k(monkeypatch: pytest.MonkeyPatch) -> Archive:
    archive = Archive("ml-100k.zip", "http://127.0.0.1:9/unused", folder="ml-100k")
    monkeypatch.setitem(download.ARCHIVES, "ml-100k.zip", archive)
    return archive


def other_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("ml-100k/u.data", U_DATA + "3\t30\t1\t400\n")
    return buffer.getvalue()


def test_wrong_cached_file_names_itself_to_delete(cache: Path, known_ml100k: Archive) -> None:
    cached = cache / "ml-100k.zip"
    cached.write_bytes(other_zip())  # a valid zip, but not the published file
    with pytest.raises(DataError) as caught:
        load_movielens(MovieLensOptions(name="movielens-100k"))
    line = str(caught.value)
    assert line.startswith(f"{cached}: the cached file is wrong (checksum mismatch: expected md5 ")
    assert line.endswith("; delete it and run `recexp data fetch movielens-100k`")
    assert cached.exists()  # the user decides; nothing is deleted behind their back


def test_cached_checksum_is_rehashed_only_when_the_file_changes(
    cache: Path, known_ml100k: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached = cache / "ml-100k.zip"
    cached.write_bytes(ml100k_zip())
    hashed: list[Path] = []
    real = verify.file_digest
    monkeypatch.setattr(verify, "file_digest", lambda p, a: hashed.append(p) or real(p, a))
    options = MovieLensOptions(name="movielens-100k")
    assert len(load_movielens(options).frame) == 3
    assert len(load_movielens(options).frame) == 3
    assert hashed == [cached] and (cache / ".ml-100k.zip.verified").is_file()
    cached.write_bytes(other_zip())  # replaced in place: new size and mtime
    with pytest.raises(DataError, match="checksum mismatch"):
        load_movielens(options)
    assert hashed == [cached, cached]


def test_half_a_zip_without_checksum_is_caught(cache: Path, unpublished_ml100k: Archive) -> None:
    cached = cache / "ml-100k.zip"
    body = ml100k_zip()
    cached.write_bytes(body[: len(body) // 2])
    with pytest.raises(DataError) as caught:
        load_movielens(MovieLensOptions(name="movielens-100k"))
    line = str(caught.value)
    assert line.startswith(f"{cached}: the cached file is wrong (damaged zip (BadZipFile")
    assert "delete it" in line and "\n" not in line


def test_corrupt_member_fails_its_crc(cache: Path, unpublished_ml100k: Archive) -> None:
    body = bytearray(ml100k_zip())
    at = bytes(body).index(U_DATA.encode())
    body[at] ^= 0x01  # flip one bit of the stored member
    (cache / "ml-100k.zip").write_bytes(bytes(body))
    with pytest.raises(DataError, match=r"member 'ml-100k/u\.data' fails its CRC check"):
        load_movielens(MovieLensOptions(name="movielens-100k"))


def test_traversal_zip_is_removed_from_the_cache(cache: Path, unpublished_ml100k: Archive) -> None:
    cached = cache / "ml-100k.zip"
    with zipfile.ZipFile(cached, "w") as z:
        z.writestr("ml-100k/u.data", U_DATA)
        z.writestr(zipfile.ZipInfo("../evil/u.data"), U_DATA)
    with pytest.raises(DataError) as caught:
        load_movielens(MovieLensOptions(name="movielens-100k"))
    assert str(caught.value) == (
        f"{cached}: archive has an unsafe member path '../evil/u.data'; "
        "refused and removed from the cache"
    )
    assert sorted(p.name for p in cache.iterdir()) == []


def test_trickling_server_hits_the_total_deadline(
    cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RECEXP_DOWNLOAD_TIMEOUT", "1")
    server = Trickle(b"x" * 1000, pause=0.2)  # would take 200 s; each read waits only 0.2 s
    try:
        archive = Archive("ml-100k.zip", server.url + "/ml-100k.zip", "md5", "0" * 32)
        start = time.monotonic()
        with pytest.raises(DataError) as caught:
            download.download(archive, dataset="movielens-100k")
        took = time.monotonic() - start
    finally:
        server.close()
    assert took < 5
    line = str(caught.value)
    assert f"{server.url}/ml-100k.zip: not complete within 1 s (RECEXP_DOWNLOAD_TIMEOUT)" in line
    assert "\n" not in line and list(cache.iterdir()) == []
    assert capsys.readouterr().err == ""  # not a terminal: no progress bar


def test_bad_timeout_setting_is_one_line(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECEXP_DOWNLOAD_TIMEOUT", "soon")
    with pytest.raises(DataError) as caught:
        download.download(Archive("ml-100k.zip", "http://127.0.0.1:9/x"))
    assert str(caught.value) == (
        "RECEXP_DOWNLOAD_TIMEOUT: must be a number of seconds above 0 (got 'soon')"
    )


def test_damaged_zip_without_checksum_never_enters_the_cache(cache: Path) -> None:
    body = ml100k_zip()
    half = body[: len(body) // 2]
    server = Trickle(half, pause=0.0)
    try:
        archive = Archive("ml-100k.zip", server.url + "/ml-100k.zip", folder="ml-100k")
        with pytest.raises(DataError, match=r"damaged zip .* \(file deleted\)"):
            download.download(archive)
    finally:
        server.close()
    assert list(cache.iterdir()) == []


def dead_pid() -> int:
    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid += 1


def test_stale_part_files_of_dead_processes_are_swept(cache: Path) -> None:
    stale = cache / f".ml-100k.zip.{dead_pid()}.part"
    alive = cache / f".ml-100k.zip.{os.getppid()}.part"
    stale.write_bytes(b"half")
    alive.write_bytes(b"still going")
    server = Trickle(ml100k_zip(), pause=0.0)
    try:
        body = ml100k_zip()
        archive = Archive("ml-100k.zip", server.url + "/z", "md5", hashlib.md5(body).hexdigest())
        assert download.download(archive).read_bytes() == body
    finally:
        server.close()
    assert not stale.exists() and alive.exists()
