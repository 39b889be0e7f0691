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
from typing import Any, Generic, TypeVar

from recexp.errors import ConfigError

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Entry(Generic[F]):
    name: str
    fn: F
    options: type[Any]
    help: str


class Registry(Generic[F]):
    """Named components of one kind (datasets, model families, ...)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[F]] = {}

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

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry[F]]:
        return iter(self._entries[n] for n in self.names())

    def __len__(self) -> int:
        return len(self._entries)
