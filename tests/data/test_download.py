"""Downloads against a local HTTP server on 127.0.0.1: checksums, 404, mirrors, cut transfers."""

from __future__ import annotations

import hashlib
import io
import socket
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from recexp.data import download
from recexp.data.download import Archive
from recexp.data.movielens import MovieLensOptions, load_movielens
from recexp.data.source import Source
from recexp.errors import DataError

U_DATA = "1\t10\t4\t100\n1\t20\t3\t200\n2\t10\t5\t300\n"


def ml100k_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:  # a fixed date: the same bytes on every call
        z.writestr(zipfile.ZipInfo("ml-100k/u.data", date_time=(2020, 1, 1, 0, 0, 0)), U_DATA)
    return buffer.getvalue()


class Server:
    """Serves ``files`` by path; ``/cut/...`` promises more bytes than it sends."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.hits: dict[str, int] = {}
        self.cut_first: set[str] = set()  # paths that fail once, then work
        files, hits, cut_first = self.files, self.hits, self.cut_first

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits[self.path] = hits.get(self.path, 0) + 1
                body = files.get(self.path.removeprefix("/cut"))
                if body is None:
                    self.send_error(404)
                    return
                cut = self.path.startswith("/cut") or (
                    self.path in cut_first and hits[self.path] == 1
                )
                self.send_response(200)
                self.send_header("Content-Length", str(len(body) + (100 if cut else 0)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if cut else body)
                self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RECEXP_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(download, "BACKOFF_S", 0.0)
    monkeypatch.setattr(download, "TIMEOUT_S", 5.0)
    return tmp_path / "cache"


def archive_at(server: Server, path: str, body: bytes, digest: str | None = None) -> Archive:
    server.files[path] = body
    return Archive("ml-100k.zip", server.url + path, "md5", digest or hashlib.md5(body).hexdigest())


def leftovers(cache: Path) -> list[str]:
    names = sorted(p.name for p in cache.iterdir()) if cache.exists() else []
    return [n for n in names if not n.endswith(".verified")]  # sidecars: verified archives


def test_good_checksum_lands_in_cache(server: Server, cache: Path) -> None:
    archive = archive_at(server, "/ml-100k.zip", ml100k_zip())
    path = download.download(archive)
    assert path == cache / "ml-100k.zip" and path.read_bytes() == ml100k_zip()
    assert leftovers(cache) == ["ml-100k.zip"]


def test_bad_checksum_deletes_and_reports_both_hashes(server: Server, cache: Path) -> None:
    body = ml100k_zip()
    archive = archive_at(server, "/ml-100k.zip", body, digest="0" * 32)
    with pytest.raises(DataError) as caught:
        download.download(archive, dataset="movielens-100k")
    line = str(caught.value)
    assert "expected md5 " + "0" * 32 in line and hashlib.md5(body).hexdigest() in line
    assert "\n" not in line and leftovers(cache) == []


def test_404_says_what_is_needed_and_where_to_put_it(server: Server, cache: Path) -> None:
    archive = Archive("ml-100k.zip", server.url + "/missing.zip", "md5", "0" * 32)
    with pytest.raises(DataError) as caught:
        download.download(archive, dataset="movielens-100k")
    line = str(caught.value)
    assert "movielens-100k needs ml-100k.zip" in line and "HTTP 404" in line
    assert str(cache / "ml-100k.zip") in line and "dataset.path" in line
    assert server.hits == {"/missing.zip": 1}  # a 404 is not retried
    assert leftovers(cache) == []


def test_mirror_fallback_in_order(server: Server, cache: Path) -> None:
    good = archive_at(server, "/mirror/ml-100k.zip", ml100k_zip())
    archive = replace(good, url=server.url + "/gone/ml-100k.zip")
    path = download.download(archive, [server.url + "/other/", server.url + "/mirror/"])
    assert path.read_bytes() == ml100k_zip()
    assert list(server.hits) == ["/gone/ml-100k.zip", "/other/ml-100k.zip", "/mirror/ml-100k.zip"]


def test_interrupted_transfer_is_retried_then_reported(server: Server, cache: Path) -> None:
    good = archive_at(server, "/ml-100k.zip", ml100k_zip())
    with pytest.raises(DataError, match="IncompleteRead"):
        download.download(replace(good, url=server.url + "/cut/ml-100k.zip"))
    assert server.hits["/cut/ml-100k.zip"] == download.RETRIES
    assert leftovers(cache) == []
    server.cut_first.add("/ml-100k.zip")
    assert download.download(good).read_bytes() == ml100k_zip()
    assert server.hits["/ml-100k.zip"] == 2


def test_host_down_is_one_line(cache: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    archive = Archive("ml-100k.zip", f"http://127.0.0.1:{port}/ml-100k.zip")
    with pytest.raises(DataError) as caught:
        download.download(archive, dataset="movielens-100k")
    assert "could not be downloaded" in str(caught.value) and "\n" not in str(caught.value)
    assert leftovers(cache) == []


def test_loader_downloads_once_then_uses_cache(
    server: Server, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = archive_at(server, "/ml-100k.zip", ml100k_zip())
    monkeypatch.setitem(download.ARCHIVES, "ml-100k.zip", archive)
    options = MovieLensOptions(name="movielens-100k")
    assert len(load_movielens(options).frame) == 3
    assert len(load_movielens(options).frame) == 3
    assert server.hits == {"/ml-100k.zip": 1}


def test_loader_uses_mirrors_from_options(
    server: Server, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = archive_at(server, "/m/ml-100k.zip", ml100k_zip())
    monkeypatch.setitem(download.ARCHIVES, "ml-100k.zip", replace(good, url=server.url + "/x"))
    options = MovieLensOptions(name="movielens-100k", mirrors=[server.url + "/m/"])
    assert len(load_movielens(options).frame) == 3


def test_add_checks_checksum(tmp_path: Path, cache: Path) -> None:
    body = ml100k_zip()
    source = tmp_path / "downloaded.zip"
    source.write_bytes(body)
    archive = Archive("ml-100k.zip", "http://unused", "md5", hashlib.md5(body).hexdigest())
    assert download.add(archive, source).read_bytes() == body
    with pytest.raises(DataError, match="checksum mismatch: expected md5 0+, got"):
        download.add(replace(archive, digest="0" * 32), source)


@pytest.mark.parametrize("member", ["../evil/u.data", "/abs/u.data"])
def test_unsafe_zip_members_are_refused(tmp_path: Path, member: str) -> None:
    path = tmp_path / "bad.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("ml-100k/u.data", U_DATA)
        z.writestr(zipfile.ZipInfo(member), U_DATA)
    with pytest.raises(DataError, match="unsafe member path"):
        Source("zip", path)


def test_only_expected_members_are_read(tmp_path: Path) -> None:
    path = tmp_path / "ml-100k.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("ml-100k/u.data", U_DATA)
        z.writestr("ml-100k/nested/u.data", "not this one")
    source = Source("zip", path)
    assert source.find("u.data") == "ml-100k/u.data" and source.find("u.item") is None
