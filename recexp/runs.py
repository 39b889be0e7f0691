"""The run directory: its file names, its typed metrics record, its status.

Layout (see DESIGN.md): config.yaml, summary.txt, summary.json, history.csv,
metrics.json, predictions.parquet, model.keras (or model.npz, or model.weights.h5 with
model_options.json; rating_vectors.npz) with recommender.json,
env.json, status.json; a parent run (k folds, seeds, a sweep, a study) adds its children
in folds/, seeds/ or trials/ and a record of them. Every file but history.csv (appended
one epoch at a time) is written to a temporary name and renamed, so a reader never sees
half a file. This module is the only place those names are spelled.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from recexp.errors import ConfigError
from recexp.jsonsafe import finite_or_none
from recexp.readers import loads_json
from recexp.run_metrics import Metrics

CONFIG = "config.yaml"
SUMMARY_TEXT = "summary.txt"
SUMMARY = "summary.json"
HISTORY = "history.csv"
METRICS = "metrics.json"
PREDICTIONS = "predictions.parquet"
RANKING_USERS = "ranking.parquet"  # the test users' top-N metrics, one row per user
MODEL_KERAS = "model.keras"
MODEL_NPZ = "model.npz"
MODEL_WEIGHTS = (
    "model.weights.h5"  # families that rebuild their model from options (svdpp, glocal_k)
)
MODEL_OPTIONS = "model_options.json"  # their options and sizes, to rebuild it on load
ENSEMBLE_MEMBERS = "members"  # an ensemble's members, each saved as a run saves it, in <k>/
RATING_VECTORS = "rating_vectors.npz"  # the train rating rows a model reads (autorec, glocal_k)
RECOMMENDER_FILE = "recommender.json"
ENV = "env.json"
STATUS = "status.json"
# a study (``recexp tune``, ``recexp sweep``): see recexp/tune/__init__.py
STUDY_RECORD = "study.json"
STUDY_SETTINGS = "tune.json"
STUDY_STORAGE = "study.log"
STUDY_SPEC = "spec.yaml"
STUDY_SPACE = "space.yaml"
STUDY_PLOT = "history.png"
SWEEP_RECORD = "sweep.json"  # written by sweeps before they were studies; recommend reads it

__all__ = ["Metrics", "RunDir", "read_run"]


class RunDir:
    """One run's directory."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @classmethod
    def create(cls, root: str | Path, name: str) -> RunDir:
        """A new ``root/<UTC timestamp>-<name>``; a suffix keeps same-second runs apart.

        The path is absolute (``root`` resolved here, the one place run directories are
        made), so a parent and its children compare as paths whatever the working
        directory and however ``--runs-dir`` was spelled. A root where no directory can
        be made (read-only, under a file) is one line."""
        root = Path(root).resolve()
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        try:
            root.mkdir(parents=True, exist_ok=True)
            for n in range(1, 10_000):
                path = root / (f"{stamp}-{name}" if n == 1 else f"{stamp}-{name}-{n}")
                try:
                    path.mkdir()  # atomic: exactly one process wins a name
                except FileExistsError:
                    continue
                return cls(path)
        except OSError as e:
            raise ConfigError(
                f"cannot make a run directory here: {e.__class__.__name__} ({e.strerror})",
                file=str(root),
            ) from None
        raise RuntimeError(f"cannot create a run directory under {root}")

    def write_text(self, name: str, text: str) -> Path:
        target = self.path / name
        fd, tmp = tempfile.mkstemp(dir=self.path, prefix=f".{name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
        return target

    def write_json(self, name: str, data: Any) -> Path:
        text = json.dumps(finite_or_none(data), indent=2, default=_jsonable, allow_nan=False)
        return self.write_text(name, text + "\n")

    def read_json(self, name: str) -> Any:
        return loads_json((self.path / name).read_text())

    def write_metrics(self, metrics: Metrics) -> Path:
        return self.write_json(METRICS, metrics.as_json())

    def metrics(self) -> Metrics:
        """The run's metrics.json; ``ValueError`` with the reason when it is unreadable."""
        return Metrics.parse(_read_object(self.path / METRICS))

    def write_predictions(self, frame: Any, name: str = PREDICTIONS) -> None:
        """A table (pandas) as parquet, atomically: the test predictions, or ranking.parquet."""
        tmp, target = self.temp_path(name)
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, target)

    def temp_path(self, name: str) -> tuple[Path, Path]:
        """A temporary path to write ``name`` through (for parquet, keras), and the target."""
        return self.path / f".{name}.tmp{Path(name).suffix}", self.path / name

    def set_status(self, state: str, **extra: Any) -> None:
        """``running``, ``completed``, ``failed``, ``interrupted`` or ``pruned``, with the pid
        and host of the process, so a reader can tell a run that died."""
        record = {"status": state, "updated": _now(), "pid": os.getpid(), "host": _host()}
        self.write_json(STATUS, {**record, **extra})

    def history(self) -> HistoryCsv:
        return HistoryCsv(self.path / HISTORY)

    def child_root(self, kind: str) -> Path:
        return self.path / kind


class HistoryCsv:
    """An epoch listener appending one row per epoch to history.csv (kept if interrupted)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fields: list[str] | None = None

    def on_epoch(self, row: dict[str, Any]) -> None:
        new = self.fields is None
        self.fields = self.fields or list(row)
        with self.path.open("a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self.fields, extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow(row)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _host() -> str:
    return socket.gethostname()


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return finite_or_none(value.tolist())
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _read_object(path: Path) -> dict[str, Any]:
    try:
        data = loads_json(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"no {path.name}") from None
    except (ValueError, OSError) as e:  # malformed JSON, a key given twice
        raise ValueError(f"unreadable {path.name} ({e.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path.name} is not a JSON object")
    return data


def effective_status(status: dict[str, Any]) -> str:
    """The recorded state, or ``died`` for a ``running`` run whose process is gone."""
    state = str(status.get("status", "?"))
    pid, host = status.get("pid"), status.get("host")
    if state != "running" or not isinstance(pid, int) or host != _host():
        return state
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "died"
    except PermissionError:
        return state
    return state


def read_run(path: str | Path) -> dict[str, Any]:
    """What compare needs from a run directory; raises ``ValueError`` with the reason."""
    path = Path(path)
    if not path.is_dir():
        raise ValueError("not a directory")
    if not (path / STATUS).exists():
        raise ValueError(f"no {STATUS}: not a recexp run directory")
    status = _read_object(path / STATUS)
    metrics = RunDir(path).metrics() if (path / METRICS).exists() else Metrics()
    status["status"] = effective_status(status)
    return {"path": str(path), "name": path.name, "status": status, "metrics": metrics}
