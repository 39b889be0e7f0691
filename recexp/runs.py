"""The run directory: created once, written atomically, read by ``compare``.

Layout (see DESIGN.md): config.yaml, summary.txt, summary.json, history.csv,
metrics.json, predictions.parquet, model.keras, env.json, status.json.
Every file but history.csv (appended one epoch at a time) is written to a temporary
name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

STATUS_FILE = "status.json"
METRICS_FILE = "metrics.json"
CONFIG_FILE = "config.yaml"


class RunDir:
    """One run's directory."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def create(cls, root: str | Path, name: str) -> RunDir:
        """A new ``root/<UTC timestamp>-<name>``; a suffix keeps same-second runs apart."""
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        for n in range(1, 10_000):
            path = root / (f"{stamp}-{name}" if n == 1 else f"{stamp}-{name}-{n}")
            try:
                path.mkdir()  # atomic: exactly one process wins a name
            except FileExistsError:
                continue
            return cls(path)
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
        return self.write_text(name, json.dumps(data, indent=2, default=_jsonable) + "\n")

    def temp_path(self, name: str) -> tuple[Path, Path]:
        """A temporary path to write ``name`` through (for parquet, keras), and the target."""
        return self.path / f".{name}.tmp{Path(name).suffix}", self.path / name

    def set_status(self, state: str, **extra: Any) -> None:
        self.write_json(STATUS_FILE, {"status": state, "updated": _now(), **extra})


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def read_run(path: str | Path) -> dict[str, Any]:
    """What compare needs from a run directory; raises ``ValueError`` with the reason."""
    path = Path(path)
    if not path.is_dir():
        raise ValueError("not a directory")
    try:
        status = json.loads((path / STATUS_FILE).read_text())
    except FileNotFoundError:
        raise ValueError("no status.json: not a recexp run directory") from None
    except (json.JSONDecodeError, OSError) as e:
        raise ValueError(f"unreadable status.json ({e.__class__.__name__})") from None
    metrics: dict[str, Any] = {}
    if (path / METRICS_FILE).exists():
        try:
            metrics = json.loads((path / METRICS_FILE).read_text())
        except (json.JSONDecodeError, OSError) as e:
            raise ValueError(f"unreadable metrics.json ({e.__class__.__name__})") from None
    return {"path": str(path), "name": path.name, "status": status, "metrics": metrics}
