"""A study's ``study.log`` (Optuna's journal file) checked before ``--resume`` writes to
it, and a torn last line repaired.

The journal is append-only: Optuna writes one JSON record per line and, reading, skips a
last line without its newline (half a record: the process died while appending). Appending
after such a line glues the next record to it, and from then on neither recexp nor
``optuna.load_study`` can read the study. So before a resume appends, :func:`check_journal`
reads every complete line as a record and replays them in memory (nothing is written; a
journal that is missing, empty, not JSON lines or without the study is one line), and
:func:`repair_torn_tail` keeps a copy of the file (``study.log.torn-<UTC stamp>``) and
cuts the torn tail, leaving exactly the records Optuna read before.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from recexp.errors import ConfigError
from recexp.tune.optuna_parts import STUDY_NAME, optuna


@dataclass(frozen=True)
class Journal:
    """A checked journal: ``size`` bytes of complete records, then ``torn`` bytes of a
    last line cut short (0: none)."""

    path: Path
    size: int
    torn: int


def check_journal(path: Path) -> Journal:
    """The journal at ``path``, read and replayed without writing; a one-line
    :class:`ConfigError` naming the file when a resume could not go on from it."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            "missing: the study's Optuna journal (its trials) is not there", file=str(path)
        ) from None
    except OSError as e:
        raise ConfigError(
            f"cannot read the journal: {e.__class__.__name__}", file=str(path)
        ) from None
    if not data.strip():
        raise ConfigError("empty: the journal holds no study", file=str(path))
    size = data.rfind(b"\n") + 1
    logs = [_record(line, number, path) for number, line in _lines(data[:size])]
    _replay(logs, path)
    return Journal(path, size, len(data) - size)


def _lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    yield from enumerate(data.split(b"\n")[:-1], start=1)


def _record(line: bytes, number: int, path: Path) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except ValueError:
        record = None
    if not isinstance(record, dict) or not isinstance(record.get("op_code"), int):
        raise ConfigError(
            f"line {number} is not an Optuna journal record", file=str(path), got=_cut(line)
        )
    return record


def _cut(line: bytes) -> str:
    text = line.decode("utf-8", "replace")
    return text if len(text) <= 40 else text[:37] + "..."


def _replay(logs: list[dict[str, Any]], path: Path) -> None:
    """Optuna's own replay of ``logs`` (in memory), and the study named ``recexp`` in it."""
    journal = optuna().storages.journal

    class Replay(journal.BaseJournalBackend):  # type: ignore[misc,name-defined]
        def read_logs(self, log_number_from: int) -> Any:
            return iter(logs[log_number_from:])

        def append_logs(self, new: list[dict[str, Any]]) -> None:
            raise RuntimeError("the check is read-only")

    try:
        storage = journal.JournalStorage(Replay())
        optuna().load_study(study_name=STUDY_NAME, storage=storage).get_trials(deepcopy=False)
    except KeyError:
        raise ConfigError(
            f"the journal holds no study named {STUDY_NAME!r}", file=str(path)
        ) from None
    except Exception as e:  # noqa: BLE001 - records Optuna cannot replay
        raise ConfigError(
            f"Optuna cannot replay the journal: {e.__class__.__name__}: {str(e)[:120]}",
            file=str(path),
        ) from None


def repair_torn_tail(journal: Journal) -> str | None:
    """Copy the journal aside and cut its torn last line; the line saying so, or None
    when there was nothing to cut."""
    if not journal.torn:
        return None
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    copy = journal.path.with_name(f"{journal.path.name}.torn-{stamp}")
    shutil.copy2(journal.path, copy)
    with open(journal.path, "r+b") as handle:
        handle.truncate(journal.size)
        handle.flush()
        os.fsync(handle.fileno())
    return (
        f"{journal.path}: the last line was cut short ({journal.torn} bytes of a record "
        f"being written when the study stopped): cut, the journal kept as {copy.name}"
    )
