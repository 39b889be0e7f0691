"""Shared pieces of the tune tests: a tiny spec, the recexp app."""

from __future__ import annotations

from pathlib import Path

import pytest

TINY = Path(__file__).resolve().parents[2] / "configs" / "tiny" / "mf.yaml"


@pytest.fixture
def app():  # type: ignore[no-untyped-def]
    from recexp.cli import app

    return app


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
