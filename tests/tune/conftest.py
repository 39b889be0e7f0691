"""Shared pieces of the tune tests: a tiny spec, a typer app with ``recexp tune``."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("optuna", reason="recexp tune needs optuna (pip install 'recexp[tune]')")

TINY = Path(__file__).resolve().parents[2] / "configs" / "tiny" / "mf.yaml"


@pytest.fixture
def app():  # type: ignore[no-untyped-def]
    import typer

    from recexp.cli_tune import register

    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """recexp (test)."""

    register(app)
    return app


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
