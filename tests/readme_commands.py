"""The shell commands of README.md's fenced ``bash`` blocks, for tests/test_readme.py.

A command is a non-blank line of a ``bash`` block that is not a comment (with the lines
after it when it ends in a backslash); a line that starts with whitespace and ``#``
continues the command above's comment. A command that
cannot run in the tests says so in the README itself, with its reason:

- the whole block, by an HTML comment on the line before its fence (not rendered):
  ``<!-- not run in tests: REASON -->``;
- one line, by a trailing comment: ``recexp ...   # not run in tests: REASON``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

MARK = "not run in tests:"
BLOCK_MARK = re.compile(r"^<!--\s*not run in tests:\s*(?P<why>.+?)\s*-->\s*$")
LINE_MARK = re.compile(r"#\s*not run in tests:\s*(?P<why>.+?)\s*$")


@dataclass(frozen=True)
class Command:
    line: int  # 1-based line of README.md
    text: str  # as written, comments and all (bash ignores them)
    skip: str | None  # the reason it is not run, from the README's own marker


def commands(readme: Path) -> list[Command]:
    """Every command of every ``bash`` block, in the README's order."""
    out: list[Command] = []
    lines = readme.read_text(encoding="utf-8").splitlines()
    fence: str | None = None
    block_skip: str | None = None
    continued = False  # the last line ended in a backslash: this one belongs to it
    for number, line in enumerate(lines, 1):
        if line.startswith("```"):
            if fence is None:
                fence = line[3:].strip().split(" ")[0] or "text"
                before = lines[number - 2] if number > 1 else ""
                found = BLOCK_MARK.match(before.strip())
                block_skip = found.group("why") if found else None
            else:
                fence = None
            continued = False
            continue
        if fence != "bash":
            continue
        marked = LINE_MARK.search(line)
        why = block_skip or (marked.group("why") if marked else None)
        if continued:
            first = out.pop()
            out.append(Command(first.line, f"{first.text}\n{line}", first.skip or why))
        elif line.strip() and not line.lstrip().startswith("#"):
            out.append(Command(number, line, why))
        continued = line.rstrip().endswith("\\")
    return out
