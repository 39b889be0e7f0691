"""Shared fixtures: tiny specs and a place for run directories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"

TINY = """\
name: tiny
seed: 3
dataset:
  name: synthetic
  n_users: 40
  n_items: 30
  n_ratings: 400
model:
  family: mf
  dim: 4
training:
  batch_size: 64
  max_epochs: 2
"""


@pytest.fixture
def tiny_spec(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return path


@pytest.fixture
def interrupt_after_first_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every training run raises KeyboardInterrupt (as Ctrl-C would) after its first epoch."""
    from recexp.runs import HistoryCsv

    original = HistoryCsv.on_epoch

    def interrupt(self, row):  # type: ignore[no-untyped-def]
        original(self, row)
        raise KeyboardInterrupt

    monkeypatch.setattr(HistoryCsv, "on_epoch", interrupt)
