"""The live table of a study's trials: state, value, best so far, elapsed.

It reads the study's storage once a second from a background thread, whatever runs the
trials (this process, worker processes, Ray). Off a terminal it prints one line per
finished trial instead.
"""

from __future__ import annotations

import math
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from recexp.tune.optuna_parts import open_study
from recexp.tune.optuna_parts import state as trial_state

STYLE = {"complete": "green", "pruned": "yellow", "fail": "red", "interrupted": "red"}


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) and math.isfinite(value) else "-"


def _elapsed(trial: Any) -> float | None:
    start = trial.datetime_start
    if start is None:
        return None
    end = trial.datetime_complete or datetime.now()
    return (end - start).total_seconds()


class Progress:
    def __init__(
        self,
        study_dir: Path,
        total: int,
        quiet: bool = False,
        console: Console | None = None,
        interval: float = 1.0,
        metric: str = "val_rmse",
        maximize: bool = False,
    ) -> None:
        self.metric, self.sign = metric.replace("val_rmse", "val RMSE"), -1.0 if maximize else 1.0
        self.study_dir = Path(study_dir)
        self.total = total
        self.quiet = quiet
        self.console = console or Console()
        self.interval = interval
        self.live: Live | None = None
        self.printed: set[int] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._study: Any = None
        self._lock = threading.Lock()
        self._t0 = time.time()

    def start(self) -> None:
        if self.quiet:
            return
        self._t0 = time.time()
        if self.console.is_terminal:
            self.live = Live(Table(), console=self.console, refresh_per_second=2)
            self.live.start()
        self._thread = threading.Thread(target=self._loop, name="tune-progress", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self.quiet:
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.refresh()
        if self.live is not None:
            self.live.stop()
            self.live = None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.refresh()
            except Exception:  # a half-written journal line, a missing file: try again
                continue

    def _trials(self) -> list[Any]:
        if self._study is None:
            self._study = open_study(self.study_dir)
        return list(self._study.get_trials(deepcopy=False))

    def refresh(self) -> None:
        with self._lock:
            trials = self._trials()
            if self.live is not None:
                self.live.update(self.table(trials))
            else:
                self._print_finished(trials)

    def _rows(self, trials: list[Any]) -> list[dict[str, Any]]:
        best = math.inf  # in minimised units: sign * value
        rows = []
        for trial in sorted(trials, key=lambda t: t.number):
            state = trial_state(trial)
            if state == "waiting":  # a grid point not started yet
                continue
            if state == "complete" and trial.value is not None:
                best = min(best, self.sign * trial.value)
            steps = trial.intermediate_values
            last = steps[max(steps)] if steps else None
            rows.append(
                {
                    "number": trial.number,
                    "state": state,
                    "epoch": max(steps) if steps else None,
                    "value": trial.value if trial.value is not None else last,
                    "best": self.sign * best if math.isfinite(best) else None,
                    "elapsed": _elapsed(trial),
                    "params": trial.params,
                }
            )
        return rows

    def table(self, trials: list[Any]) -> Table:
        rows = self._rows(trials)
        done = sum(r["state"] in ("complete", "pruned", "fail") for r in rows)
        table = Table(
            title=f"{self.study_dir.name}: {done}/{self.total} trials, "
            f"{time.time() - self._t0:.0f} s",
            title_justify="left",
        )
        for name in ("trial", "state", "epoch", self.metric, "best so far", "elapsed s", "params"):
            table.add_column(name, justify="left" if name in ("state", "params") else "right")
        for row in rows[-20:]:
            style = STYLE.get(row["state"])
            table.add_row(
                str(row["number"]),
                f"[{style}]{row['state']}[/]" if style else row["state"],
                str(row["epoch"] or "-"),
                _fmt(row["value"]),
                _fmt(row["best"]),
                f"{row['elapsed']:.1f}" if row["elapsed"] is not None else "-",
                _params(row["params"]),
            )
        return table

    def _print_finished(self, trials: list[Any]) -> None:
        for row in self._rows(trials):
            if row["number"] in self.printed or row["state"] in ("running", "waiting"):
                continue
            self.printed.add(row["number"])
            elapsed = f"{row['elapsed']:.1f} s" if row["elapsed"] is not None else "-"
            self.console.print(
                f"trial {row['number']} {row['state']}: {self.metric} {_fmt(row['value'])} "
                f"(best {_fmt(row['best'])}, epoch {row['epoch'] or '-'}, {elapsed})  "
                f"{_params(row['params'])}",
                highlight=False,
                soft_wrap=True,
            )


def _params(params: dict[str, Any]) -> str:
    parts = []
    for key, value in params.items():
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        parts.append(f"{key.rsplit('.', 1)[-1]}={text[:30]}")
    return " ".join(parts)
