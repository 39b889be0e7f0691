"""The few exception types recexp raises for problems a user can fix.

Every user-facing error renders as one line, ``FILE: dotted.key: problem (got VALUE)``;
the CLI prints it to stderr and exits with :attr:`RecexpError.exit_code`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_MISSING = object()


class RecexpError(Exception):
    """Base class: a problem with the user's input, reported as one line."""

    exit_code = 2

    def __init__(
        self,
        problem: str,
        *,
        file: str | None = None,
        key: str | None = None,
        got: Any = _MISSING,
    ) -> None:
        self.problem = problem
        self.file = file
        self.key = key
        self.got = got
        super().__init__(self.line())

    def line(self) -> str:
        parts = [p for p in (self.file, self.key) if p]
        text = self.problem
        if self.got is not _MISSING:
            text += f" (got {format_value(self.got)})"
        return ": ".join([*parts, text])

    def with_file(self, file: str) -> RecexpError:
        """The same error, attributed to ``file`` if it names none yet."""
        if self.file is None:
            self.file = file
            self.args = (self.line(),)
        return self

    def __str__(self) -> str:
        return self.line()


class ConfigError(RecexpError):
    """A spec that does not validate: unknown key, wrong type, bad value."""


class DataError(RecexpError):
    """A dataset that cannot be found, downloaded, verified or parsed."""


class TrainingError(RecexpError):
    """Training that cannot go on, e.g. a NaN loss."""

    exit_code = 1


def format_value(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


@contextmanager
def one_line_errors(file: str | None = None) -> Iterator[None]:
    """For command-line entry points: a :class:`RecexpError` raised inside is printed as its
    one line on stderr (attributed to ``file`` when it names none) and exits with its
    :attr:`~RecexpError.exit_code`, without a traceback."""
    try:
        yield
    except RecexpError as error:
        if file is not None:
            error = error.with_file(file)
        print(error.line(), file=sys.stderr)
        raise SystemExit(error.exit_code) from None
