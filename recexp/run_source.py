"""Which run directory holds a run's predictions.parquet and history.csv.

A single run holds its own. A parent holds none: a sweep or a study (``recexp sweep``,
``recexp tune``) stands for the trial it selected on validation, k folds and seeds for
their first child (fold 0, the first seed given). ``compare --stats``, ``report`` and
``plot`` pair and draw a parent through that child and say so; a parent without one
(nothing selected yet, no child finished) is named with the reason. JSON only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recexp.runs import METRICS, STATUS, STUDY_RECORD, SWEEP_RECORD

REPEATS = ("folds", "seeds")  # parents whose children are all alike: the first stands in


@dataclass(frozen=True)
class Source:
    """``path``: the directory to read (the run itself, or a child); ``via``: how a parent
    got it ("its selected trial ...", "its first seed ..."), None for a plain run;
    ``missing``: why a parent has none."""

    path: Path | None
    via: str | None = None
    missing: str | None = None


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _selected(run: Path) -> Source | None:
    """A study's or a sweep's selected trial; None when ``run`` is neither."""
    if (run / STUDY_RECORD).is_file():
        record = _read(run / STUDY_RECORD)
        chosen = [t for t in record.get("trials", []) if t.get("number") == record.get("selected")]
        rel = chosen[0].get("run_dir") if chosen else None
    elif (run / SWEEP_RECORD).is_file():  # a sweep from before sweeps were studies
        record = _read(run / SWEEP_RECORD)
        at = record.get("selected")
        trials = record.get("trials", [])
        rel = trials[at].get("path") if isinstance(at, int) and at < len(trials) else None
    else:
        selected = _read(run / METRICS).get("tune", {}).get("selected", {})
        if not isinstance(selected, dict) or "run_dir" not in selected:
            return None
        rel = selected["run_dir"]
    if not rel:
        return Source(None, missing="a study that has selected no trial yet")
    return Source(run / rel, via=f"its selected trial {Path(rel).name}")


def source(run: str | Path) -> Source:
    """Where ``run``'s predictions and history are (see the module's docstring)."""
    run = Path(run)
    found = _selected(run)
    if found is not None:
        return found
    for kind in REPEATS:
        children = sorted(p for p in (run / kind).glob("*") if (p / STATUS).is_file())
        if children:
            first = children[0]
            return Source(first, via=f"its first {kind[:-1]} {first.name}")
        if (run / kind).is_dir():
            return Source(None, missing=f"a parent of {kind} with no child run yet")
    return Source(run)
