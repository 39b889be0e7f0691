"""Where an MLflow tracking URI points, and whether recexp can write there, found out in
seconds *before* a run directory exists (see the README's Tracking section).

- a folder, or ``file:///FOLDER`` (the same folder: MLflow 3 refuses its old file store,
  so both are a local store, an SQLite file ``mlflow.db`` and an ``artifacts`` folder in
  it): created if needed, and a file written and removed in it;
- ``sqlite:///FILE``: the file's folder, the same way;
- ``http(s)://HOST:PORT``: a TCP connection within :data:`CONNECT_TIMEOUT_S`, then one
  request with MLflow's retries off (``MLFLOW_HTTP_REQUEST_MAX_RETRIES=0``) and a short
  timeout, instead of its default minutes of retries;
- any other scheme is refused when the spec is validated
  (:func:`recexp.tracking_options.uri_scheme`).

Every refusal is one :class:`~recexp.errors.ConfigError` on ``tracking.mlflow.uri`` with
the URI in it. mlflow itself is not imported here.
"""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from recexp.errors import ConfigError
from recexp.tracking_options import uri_scheme

KEY = "tracking.mlflow.uri"
CONNECT_TIMEOUT_S = 3.0
#: MLflow's HTTP settings while probing a server: no retries, a short timeout
QUICK_HTTP = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "5"}


def refused(problem: str, uri: str) -> ConfigError:
    return ConfigError(problem, key=KEY, got=uri)


def reason(error: OSError) -> str:
    return f"{error.__class__.__name__} ({error.strerror or error})"


def local_folder(uri: str | None, default: str) -> Path | None:
    """The folder of a local store (a folder or a ``file:`` URI), else None."""
    if uri is None:
        return Path(default).expanduser().resolve()
    try:
        scheme = uri_scheme(uri)
    except ValueError as error:
        raise refused(str(error), uri) from None
    if scheme == "":
        return Path(uri).expanduser().resolve()
    if scheme != "file":
        return None
    parsed = urlparse(uri)
    if parsed.netloc not in ("", "localhost"):
        raise refused("a file: URI on another host cannot be written from here", uri)
    return Path(url2pathname(parsed.path)).expanduser().resolve()


def writable_folder(folder: Path, uri: str) -> None:
    """``folder`` made if needed, and a file written in it (and removed)."""
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise refused(f"{existing} is a file, not a folder: no store can be made in it", uri)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder, prefix=".recexp-probe-"):
            pass
    except OSError as error:
        raise refused(f"cannot write to the folder {folder}: {reason(error)}", uri) from None


def sqlite_folder(uri: str) -> Path | None:
    """The folder of an ``sqlite:///FILE`` store (None for an in-memory one)."""
    path = uri.split("://", 1)[1]
    path = path[1:] if path.startswith("/") else path  # sqlite:///rel, sqlite:////abs
    if not path or path == ":memory:":
        return None
    return Path(path).expanduser().resolve().parent


def reachable(uri: str) -> None:
    """A TCP connection to an http(s) server's host and port."""
    parsed = urlparse(uri)
    try:
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
    except ValueError:
        raise refused("not a valid http(s) URI", uri) from None
    if not parsed.hostname:
        raise refused("an http(s) URI needs a host: http://HOST:PORT", uri)
    try:
        socket.create_connection((parsed.hostname, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as error:
        raise refused(f"cannot reach the MLflow server: {reason(error)}", uri) from None


def check_location(uri: str, folder: Path | None) -> None:
    """What can be checked without MLflow: a local folder, an sqlite file's folder, a
    server's port."""
    scheme = uri_scheme(uri)
    if folder is not None:
        writable_folder(folder, uri)
    elif scheme == "sqlite":
        where = sqlite_folder(uri)
        if where is not None:
            writable_folder(where, uri)
    elif scheme in ("http", "https"):
        reachable(uri)


@contextmanager
def quick_http() -> Iterator[None]:
    """MLflow's HTTP client without retries and with a short timeout, inside the block
    (variables the user set are kept)."""
    saved = {name: os.environ.get(name) for name in QUICK_HTTP}
    for name, value in QUICK_HTTP.items():
        os.environ.setdefault(name, value)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old
