"""A model family, an embedding strategy and a dataset from an installed package, through
entry points (issue 24, item 6): a tiny plugin put on sys.path with its dist-info, as pip
would install it, and a broken one beside it that costs one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PLUGIN = """
from typing import Literal

from recexp.data.base import DATASETS
from recexp.data.synthetic import SyntheticOptions, load_synthetic
from recexp.embeddings.base import EMBEDDINGS
from recexp.embeddings.full import FullOptions, build_full
from recexp.models import MODELS
from recexp.models.mf import MFOptions, build_mf


class PluginMFOptions(MFOptions):
    family: Literal["plugin_mf"] = "plugin_mf"


@MODELS.register("plugin_mf", options=PluginMFOptions, help="mf, from a plugin")
def build_plugin_mf(options, ctx):
    return build_mf(options, ctx)


class WholeOptions(FullOptions):
    strategy: Literal["whole"] = "whole"


@EMBEDDINGS.register("whole", options=WholeOptions, help="full, from a plugin")
def build_whole(options, request):
    return build_full(options, request)


class PocketOptions(SyntheticOptions):
    name: Literal["pocket"] = "pocket"
    n_users: int = 40
    n_items: int = 30
    n_ratings: int = 400


@DATASETS.register("pocket", options=PocketOptions, help="400 synthetic ratings, from a plugin")
def load_pocket(options):
    return load_synthetic(options)
"""

ENTRY_POINTS = """\
[recexp.models]
plugin_mf = recexp_tiny_plugin
broken = recexp_broken_plugin
[recexp.embeddings]
whole = recexp_tiny_plugin
[recexp.datasets]
pocket = recexp_tiny_plugin
"""

SPEC = """\
name: plugged
dataset: {name: pocket}
model: {family: plugin_mf, dim: 4}
embedding: {strategy: whole}
training: {batch_size: 64, max_epochs: 2}
"""


def _install(site: Path) -> None:
    """The files ``pip install`` would leave in site-packages."""
    (site / "recexp_tiny_plugin").mkdir(parents=True)
    (site / "recexp_tiny_plugin" / "__init__.py").write_text(textwrap.dedent(PLUGIN))
    (site / "recexp_broken_plugin").mkdir()
    (site / "recexp_broken_plugin" / "__init__.py").write_text("raise ImportError('no numpy 9')\n")
    info = site / "recexp_tiny_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: recexp-tiny-plugin\nVersion: 0.1\n"
    )
    (info / "entry_points.txt").write_text(ENTRY_POINTS)


def _recexp(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    return subprocess.run(
        [sys.executable, "-m", "recexp", *args], cwd=cwd, env=env, capture_output=True, text=True
    )


def test_a_plugin_family_strategy_and_dataset_train(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    _install(site)
    (tmp_path / "spec.yaml").write_text(SPEC)
    listed = _recexp(site, tmp_path, "list")
    assert listed.returncode == 0, listed.stderr
    for name in ("plugin_mf", "whole", "pocket"):
        assert name in listed.stdout
    broken = [line for line in listed.stderr.splitlines() if "plugin" in line]
    assert broken == [
        "recexp: plugin 'broken' (recexp_broken_plugin, entry point recexp.models) not "
        "loaded: ImportError: no numpy 9"
    ]

    trained = _recexp(site, tmp_path, "train", "spec.yaml", "--quiet")
    assert trained.returncode == 0, trained.stderr
    (run,) = (tmp_path / "runs").iterdir()
    assert json.loads((run / "status.json").read_text())["status"] == "completed"
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["model"] == "plugin_mf" and metrics["dataset"] == "pocket"
    assert metrics["embedding"].startswith("whole")


def test_without_plugins_the_registries_are_recexps_own() -> None:
    from recexp.models import MODELS

    assert "plugin_mf" not in MODELS and "mf" in MODELS
