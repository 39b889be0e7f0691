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


LR_SPACE = "optimizer.learning_rate: {kind: float, low: 0.002, high: 0.05, log: true}\n"


@pytest.fixture(scope="session")
def tiny_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real study, built once per session (configs/tiny/mf.yaml, 2 trials of 1 epoch):
    copy it (:func:`copy_study`) before breaking anything in it."""
    from recexp.tune.study import run_tune

    root = tmp_path_factory.mktemp("tiny-study")
    space = write(root / "space.yaml", LR_SPACE)
    run = run_tune(
        TINY,
        space,
        trials=2,
        sampler="random",
        overrides=["training.max_epochs=1"],
        runs_root=root / "runs",
        quiet=True,
    )
    return run.path


def copy_study(study: Path, to: Path) -> Path:
    import shutil

    target = to / study.name
    shutil.copytree(study, target, symlinks=True)
    return target


def tree_hash(root: Path) -> str:
    """Every file and folder under ``root`` (names and bytes), as one digest."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        if path.is_file() and not path.is_symlink():
            digest.update(path.read_bytes())
    return digest.hexdigest()
