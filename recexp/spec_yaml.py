"""Reading YAML from a user (specs, ``--set`` values, grids, search spaces): a safe loader
that refuses duplicate keys, one-line errors with the line, and dotted-key overrides."""

from __future__ import annotations

import re
from typing import Any

import yaml

from recexp.errors import ConfigError


class UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a mapping with the same key twice.

    PyYAML keeps the last value of a repeated key; a spec with ``dim: 8`` and later
    ``dim: 16`` would silently train with 16. Each document is checked as a node tree
    before it is constructed, so the error names the dotted key and both lines. Shared
    (aliased) nodes are checked once, so an alias bomb costs no more than its nodes.
    """

    def construct_document(self, node: yaml.Node) -> Any:
        _check_unique(node, [], set())
        return super().construct_document(node)


def _check_unique(node: yaml.Node, path: list[str], seen: set[int]) -> None:
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first: dict[Any, yaml.Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                _check_unique(value_node, path, seen)
                continue
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is not None:
                if key in first:
                    a, b = first[key].start_mark.line + 1, key_node.start_mark.line + 1
                    raise ConfigError(
                        f"duplicate key {key!r} on lines {a} and {b}; keep one of them",
                        key=".".join([*path, str(key)]),
                    )
                first[key] = key_node
            _check_unique(value_node, [*path, str(key)], seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_unique(item, [*path, str(i)], seen)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` that refuses duplicate keys (:class:`UniqueKeyLoader`).

    For every YAML recexp reads from a user: specs, ``--set`` values, space and grid files.
    A duplicate key raises a :class:`ConfigError` (without a file); malformed YAML raises
    ``yaml.YAMLError`` as ``yaml.safe_load`` does.
    """
    return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 (a SafeLoader)


def parse_yaml(text: str, file: str, what: str = "a spec") -> dict[str, Any]:
    """``text`` as a mapping; ``what`` names it in the error when it holds something else."""
    try:
        data = load_yaml(text)
    except ConfigError as e:
        raise e.with_file(file) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(f"malformed YAML: {problem}", file=file, key=where) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{what} must be a YAML mapping", file=file, got=type(data).__name__)
    return data


_OVERRIDE = re.compile(r"^([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)=(.*)$", re.S)


def apply_override(data: dict[str, Any], item: str) -> None:
    """Apply ``dotted.key=value`` (value parsed as YAML) to the raw spec ``data``."""
    match = _OVERRIDE.match(item)
    if not match:
        raise ConfigError("override must look like dotted.key=value", key="--set", got=item)
    key, raw = match.groups()
    try:
        value = load_yaml(raw) if raw.strip() else ""
    except ConfigError as e:  # a duplicate key inside the value; its lines mean little here
        problem = e.problem.split(" on lines")[0]
        raise ConfigError(problem, key=f"{key}.{e.key}", got=raw) from None
    except yaml.YAMLError:
        value = raw
    parts = key.split(".")
    node = data
    for i, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ConfigError(
                "cannot set a key inside a non-mapping value",
                key=".".join(parts[: i + 1]),
                got=child,
            )
        node = child
    node[parts[-1]] = value  # an unknown key is reported by validation (extra=forbid)
