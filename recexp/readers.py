"""Reading the YAML and JSON files recexp did not just write (specs, search spaces, a
study's files, a run's records): one loader each, duplicate keys refused, and every
problem one line naming the file.

YAML goes through :func:`recexp.spec_yaml.load_yaml` (a safe loader that refuses a key
given twice); JSON through :func:`loads_json` (the same for JSON objects). A file that is
missing, unreadable, empty, malformed or of the wrong shape is a
:class:`~recexp.errors.ConfigError` ``FILE: what is wrong``; nothing is written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from recexp.errors import ConfigError
from recexp.spec_yaml import parse_yaml

SHAPES: dict[type, str] = {dict: "a mapping", list: "a list"}


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def loads_json(text: str) -> Any:
    """``json.loads`` that refuses an object with the same key twice (``ValueError``, as
    for any malformed JSON: a ``json.JSONDecodeError`` is one too)."""
    return json.loads(text, object_pairs_hook=_unique_pairs)


def read_text(path: str | Path, what: str = "file") -> str:
    """The text of ``path``; missing or unreadable is one line naming it."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{what} not found", file=str(path)) from None
    except (IsADirectoryError, NotADirectoryError, PermissionError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read {what}: {e.__class__.__name__}", file=str(path)) from None


def read_json(path: str | Path, shape: type = dict, what: str = "file") -> Any:
    """A JSON file whose top level is ``shape`` (dict or list)."""
    text = read_text(path, what)
    if not text.strip():
        raise ConfigError("empty file", file=str(path))
    try:
        data = loads_json(text)
    except ValueError as e:
        where = f" at line {e.lineno}" if isinstance(e, json.JSONDecodeError) else ""
        problem = e.msg if isinstance(e, json.JSONDecodeError) else str(e)
        raise ConfigError(f"malformed JSON{where}: {problem}", file=str(path)) from None
    return check_shape(data, shape, path)


def read_yaml(path: str | Path, what: str = "file") -> dict[str, Any]:
    """A YAML file that holds a mapping (a search space, a study's spec.yaml)."""
    text = read_text(path, what)
    if not text.strip():
        raise ConfigError("empty file", file=str(path))
    return parse_yaml(text, str(path), what="the file")


def check_shape(data: Any, shape: type, path: str | Path) -> Any:
    if not isinstance(data, shape):
        raise ConfigError(
            f"the file must hold {SHAPES.get(shape, shape.__name__)}",
            file=str(path),
            got=type(data).__name__,
        )
    return data
