"""One generic registry; one instance per kind of pluggable component.

Each entry pairs a name with a callable (a builder or loader) and the pydantic
class of its options, so the spec schema can be assembled from the registries::

    @MODELS.register("mf", options=MFOptions, help="biased dot product")
    def build_mf(options: MFOptions, ctx: BuildContext) -> keras.Model: ...
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import UnionType
from typing import Annotated, Any, Generic, Literal, TypeVar, Union, get_args, get_origin

from recexp.errors import ConfigError

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Entry(Generic[F]):
    name: str
    fn: F
    options: type[Any]
    help: str


class Registry(Generic[F]):
    """Named components of one kind (datasets, model families, ...).

    ``plugins``: an entry-point group (``recexp.models``) whose entry points, in installed
    packages, are imported when the registry is first looked up; importing one registers
    its entries with the decorator as recexp's own modules do. A plugin that fails to
    import is one line on stderr naming it, and the rest go on."""

    def __init__(self, kind: str, plugins: str | None = None) -> None:
        self.kind = kind
        self.plugins = plugins
        self._entries: dict[str, Entry[F]] = {}
        self._plugins_loaded = plugins is None

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True  # first: a plugin may look the registry up itself
        from recexp.plugins import load_group

        load_group(str(self.plugins))

    def register(
        self, name: str, *, options: type[Any] = object, help: str = ""
    ) -> Callable[[F], F]:
        """Decorator that registers ``fn`` under ``name``; a second ``name`` is an error."""

        def decorator(fn: F) -> F:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            first_line = (fn.__doc__ or "").strip().partition("\n")[0]
            self._entries[name] = Entry(name, fn, options, help or first_line)
            return fn

        return decorator

    def get(self, name: str, *, key: str | None = None) -> Entry[F]:
        """The entry called ``name``, or a :class:`ConfigError` listing the valid names."""
        self._load_plugins()
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise ConfigError(self.unknown_message(name), key=key, got=name) from None

    def unknown_message(self, name: object) -> str:
        names = self.names()
        text = f"unknown {self.kind}"
        close = difflib.get_close_matches(str(name), names, n=1, cutoff=0.6)
        if close:
            text += f" (did you mean {close[0]!r}?)"
        return text + f"; expected one of: {', '.join(names)}"

    @property
    def plural(self) -> str:
        """``datasets``, ``model families``, ``embedding strategies``, ``optimizers``."""
        if self.kind.endswith("y") and self.kind[-2:-1] not in "aeiou":
            return self.kind[:-1] + "ies"
        return self.kind + "s"

    def names(self) -> list[str]:
        self._load_plugins()
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        self._load_plugins()
        return name in self._entries

    def __iter__(self) -> Iterator[Entry[F]]:
        return iter(self._entries[n] for n in self.names())

    def __len__(self) -> int:
        self._load_plugins()
        return len(self._entries)


DISCRIMINATORS = ("name", "family", "strategy")


def option_rows(options: type[Any]) -> list[tuple[str, str, str, str]]:
    """``(key, type, default, description)`` for each field of a pydantic options class.

    The discriminating key (``strategy``, ``family`` or ``name`` typed as a ``Literal``) is
    left out: it is the entry's own name.
    """
    fields = getattr(options, "model_fields", None) or {}
    rows = []
    for key, field in fields.items():
        annotation = field.annotation
        if key in DISCRIMINATORS and get_origin(annotation) is Literal:
            continue
        default = (
            "required"
            if field.is_required()
            else _show(field.get_default(call_default_factory=True))
        )
        rows.append((key, type_name(annotation), default, field.description or ""))
    return rows


def _show(value: Any) -> str:
    """A default as a spec would spell it; a nested options model as its set keys."""
    dump = getattr(value, "model_dump", None)
    if dump is not None:
        return ", ".join(f"{k}: {v}" for k, v in dump(mode="json").items() if v is not None)
    return repr(value)


def type_name(annotation: Any) -> str:
    """A short, readable name for a type annotation: ``int | None``, ``'a' | 'b'``."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return " | ".join(repr(a) for a in args)
    if origin in (Union, UnionType):
        return " | ".join(type_name(a) for a in args)
    if origin is Annotated:
        return type_name(args[0])
    if origin is not None:
        inner = ", ".join(type_name(a) for a in args)
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    if annotation is type(None):
        return "None"
    return getattr(annotation, "__name__", str(annotation).replace("typing.", ""))


def find(name: str, registries: dict[str, Registry[Any]]) -> list[tuple[Registry[Any], Entry[Any]]]:
    """Every registry entry called ``name``; a one-line error with a hint when none is."""
    found = [(r, r.get(name)) for r in registries.values() if name in r]
    if found:
        return found
    everything = [*registries, *(n for r in registries.values() for n in r.names())]
    close = difflib.get_close_matches(name, everything, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ConfigError(
        f"no registry or entry called {name!r}{hint}; registries: " + ", ".join(registries),
        key="list",
    )
