"""What a user sees while a run trains: a live rich table, or plain lines off a terminal."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

SHOWN = ("loss", "rmse", "val_loss", "val_rmse", "val_mae")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4f}"
    return str(value)


class Display:
    """Epoch-by-epoch progress. ``quiet`` shows nothing; a non-terminal gets one line per epoch."""

    def __init__(self, quiet: bool = False, console: Console | None = None) -> None:
        self.quiet = quiet
        self.console = console or Console()
        self.live: Live | None = None
        self.rows: list[dict[str, Any]] = []
        self.max_epochs = 0

    def message(self, text: str) -> None:
        if not self.quiet:
            self.console.print(text, highlight=False, soft_wrap=True)

    @contextmanager
    def working(self, what: str) -> Iterator[None]:
        """A spinner with the elapsed time while a long step runs (on a terminal, not quiet);
        off a terminal, one line when the step took more than a second."""
        start = time.perf_counter()
        if self.quiet or not self.console.is_terminal:
            yield
        else:
            with self.console.status(f"{what}...", spinner="dots"):
                yield
        seconds = time.perf_counter() - start
        if seconds > 1:
            self.message(f"{what}: {seconds:.1f} s")

    def start(self, title: str, max_epochs: int) -> None:
        self.max_epochs = max_epochs
        self.title = title
        if not self.quiet and self.console.is_terminal:
            self.live = Live(self._table(), console=self.console, refresh_per_second=4)
            self.live.start()

    def epoch(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if self.quiet:
            return
        if self.live is not None:
            self.live.update(self._table())
        else:
            metrics = " ".join(f"{k}={_fmt(row[k])}" for k in SHOWN if k in row)
            self.console.print(
                f"epoch {row['epoch']}/{self.max_epochs} {metrics} ({row['seconds']:.1f}s)",
                highlight=False,
                soft_wrap=True,
            )

    def stop(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None

    def _table(self) -> Table:
        table = Table(title=self.title, title_justify="left")
        keys = [k for k in SHOWN if not self.rows or k in self.rows[-1]]
        for name in ("epoch", *keys, "seconds"):
            table.add_column(name, justify="right")
        for row in self.rows[-15:]:
            table.add_row(
                f"{row['epoch']}/{self.max_epochs}",
                *(_fmt(row.get(k, "")) for k in keys),
                f"{row['seconds']:.1f}",
            )
        return table

    def on_epoch(self, row: dict[str, Any]) -> None:
        """The display as an epoch listener."""
        self.epoch(row)
