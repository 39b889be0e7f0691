"""Run names carry their --set overrides in short form (issue 24, item 4)."""

from __future__ import annotations

import re
from pathlib import Path

from recexp.config import load_spec
from recexp.run_names import MAX_NAME, name_with_overrides


def test_overrides_in_short_form() -> None:
    assert name_with_overrides("mf", ["model.dim=64", "training.batch_size=1024"]) == (
        "mf-dim64-bs1024"
    )
    assert name_with_overrides("mf", ["optimizer.learning_rate=0.002"]) == "mf-lr0.002"
    assert name_with_overrides("mf", ["training.distribute.strategy=mirrored"]) == (
        "mf-strategy-mirrored"
    )
    assert name_with_overrides("mf", ["embedding={strategy: hashing, num_bins: 500}"]) == (
        "mf-embedding-hashing-500"
    )
    assert name_with_overrides("mf", ["model.layers=[64, 32]"]) == "mf-layers64x32"
    # an explicit name wins; where a run is logged is not what it is
    assert name_with_overrides("mf", ["model={family: biases}", "name=biases"]) == "mf"
    assert name_with_overrides("mf", ["tracking.mlflow={uri: 'a b/c'}"]) == "mf"


def test_names_stay_safe_and_bounded() -> None:
    weird = name_with_overrides("mf", ["dataset.path='/tmp/a b/../x.csv'"])
    assert re.fullmatch(r"[A-Za-z0-9._-]+", weird) and "/" not in weird
    long = [f"model.key{i}=value{i}" for i in range(30)]
    a, b = name_with_overrides("mf", long), name_with_overrides("mf", long[:-1])
    assert len(a) <= MAX_NAME and len(b) <= MAX_NAME and a != b


def test_load_spec_names_the_run_after_its_overrides(tiny_spec: Path) -> None:
    assert load_spec(tiny_spec).name == "tiny"
    assert load_spec(tiny_spec, ["model.dim=8"]).name == "tiny-dim8"
