"""Break one key at a time: each bad input is one line on stderr, exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from recexp.cli import app
from recexp.config import load_spec

from .conftest import TINY

runner = CliRunner()


def spec_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return path


def with_change(dotted: str, value: object) -> str:
    data = yaml.safe_load(TINY)
    node = data
    *parents, last = dotted.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return yaml.safe_dump(data, sort_keys=False)


def run(args: list[str]) -> tuple[int, str, str]:
    result = runner.invoke(app, args)
    return result.exit_code, result.stdout, result.stderr


def test_valid_spec_resolves_every_default(tiny_spec: Path):
    config = load_spec(tiny_spec)
    resolved = config.resolved()
    assert resolved["optimizer"] == {
        "name": "adam",
        "learning_rate": 0.001,
        "weight_decay": None,
        "clipnorm": None,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-07,
    }
    assert resolved["embedding"]["user"]["strategy"] == "full"
    assert resolved["dataset"]["split"]["strategy"] == "random"
    # the resolved spec validates to the same config
    assert load_spec(spec_file(tiny_spec.parent, yaml.safe_dump(resolved))) == config


def test_overrides_are_yaml_typed(tiny_spec: Path):
    config = load_spec(
        tiny_spec,
        [
            "model.dim=64",
            "training.batch_size=full",
            "optimizer.name=sgd",
            "optimizer.momentum=0.9",
        ],
    )
    assert config.model.dim == 64  # type: ignore[attr-defined]
    assert config.training.batch_size == "full"
    assert config.optimizer.momentum == 0.9  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("foo", 1, "foo: unknown key (got 1)"),
        ("model.dimm", 8, "model.dimm: unknown key (did you mean 'dim'?) (got 8)"),
        (
            "model.dim",
            "big",
            "model.dim: input should be a valid integer, unable to parse "
            "string as an integer (got 'big')",
        ),
        ("model.dim", 0, "model.dim: input should be greater than 0 (got 0)"),
        (
            "optimizer.learning_rate",
            -0.1,
            "optimizer.learning_rate: input should be greater than 0 (got -0.1)",
        ),
        (
            "optimizer.learning_rate",
            0,
            "optimizer.learning_rate: input should be greater than 0 (got 0)",
        ),
        ("training.batch_size", -5, "training.batch_size: input should be greater than 0 (got -5)"),
        (
            "training.batch_size",
            "half",
            "training.batch_size: must be a positive integer or 'full' (got 'half')",
        ),
        (
            "training.loss",
            "l1",
            "training.loss: input should be 'mse', 'huber' or 'mae' (got 'l1')",
        ),
        (
            "dataset.split",
            {"val": 0.5, "test": 0.5},
            "dataset.split: val + test must be below 1, leaving ratings to train on "
            "(got 0.5 + 0.5 = 1)",
        ),
        (
            "model.family",
            "nuemf",
            "model.family: unknown model family (did you mean 'neumf'?); expected one of:",
        ),
        (
            "dataset.name",
            "synthetc",
            "dataset.name: unknown dataset (did you mean 'synthetic'?); expected one of:",
        ),
        (
            "optimizer.name",
            "adma",
            "optimizer.name: unknown optimizer (did you mean 'adam'?); expected one of:",
        ),
        (
            "embedding",
            {"strategy": "fulll"},
            "embedding.strategy: unknown embedding strategy (did you mean 'full'?); "
            "expected one of:",
        ),
    ],
)
def test_one_bad_key_one_line(tmp_path: Path, key: str, value: object, message: str):
    path = spec_file(tmp_path, with_change(key, value))
    code, out, err = run(["validate", str(path)])
    assert code == 2
    assert out == ""
    assert err.startswith(f"{path}: {message}")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_malformed_yaml_names_the_line(tmp_path: Path):
    path = spec_file(tmp_path, "name: x\nmodel:\n  family: [mf\n")
    code, _, err = run(["validate", str(path)])
    assert code == 2
    assert err.startswith(f"{path}: line 4: malformed YAML:")


def test_missing_spec_file(tmp_path: Path):
    code, _, err = run(["validate", str(tmp_path / "nope.yaml")])
    assert (code, err) == (2, f"{tmp_path / 'nope.yaml'}: spec file not found\n")


def test_override_of_unknown_key(tiny_spec: Path):
    code, _, err = run(["validate", str(tiny_spec), "--set", "training.batchsize=10"])
    assert code == 2
    assert (
        err
        == f"{tiny_spec}: training.batchsize: unknown key (did you mean 'batch_size'?) (got 10)\n"
    )
    code, _, err = run(["validate", str(tiny_spec), "--set", "model.dim.x=1"])
    assert code == 2
    assert err.startswith(f"{tiny_spec}: model.dim: cannot set a key inside a non-mapping value")


def test_missing_family(tmp_path: Path):
    path = spec_file(tmp_path, "name: x\nmodel: {dim: 3}\n")
    assert run(["validate", str(path)])[2] == f"{path}: model.family: required key is missing\n"


def test_bad_spec_leaves_no_run_directory(tmp_path: Path):
    path = spec_file(tmp_path, with_change("optimizer.learning_rate", -1))
    runs = tmp_path / "runs"
    code, _, err = run(["train", str(path), "--runs-dir", str(runs)])
    assert code == 2 and "optimizer.learning_rate" in err
    assert not runs.exists()


CONFIGS = Path(__file__).resolve().parents[1] / "configs"


SPECS = [p.relative_to(CONFIGS) for p in CONFIGS.rglob("*.yaml")]


@pytest.mark.parametrize(
    "spec", sorted(str(p) for p in SPECS if p.parts[0] != "spaces"), ids=str
)  # configs/spaces/ holds search spaces: tests/tune/test_space.py checks them
def test_every_shipped_spec_validates(spec: str):
    assert load_spec(CONFIGS / spec).name


def test_per_table_override_on_a_single_block(tmp_path: Path):
    path = spec_file(tmp_path, with_change("embedding", {"strategy": "full", "l2": 0.01}))
    config = load_spec(path, ["embedding.user={strategy: hashing, num_bins: 10}"])
    assert config.embedding.user.strategy == "hashing"
    assert (config.embedding.item.strategy, config.embedding.item.l2) == ("full", 0.01)  # type: ignore[attr-defined]


def test_validation_monitor_without_validation_data(tiny_spec: Path, tmp_path: Path):
    runs = tmp_path / "runs"
    code, _, err = run(
        ["train", str(tiny_spec), "--set", "dataset.split.val=0", "--runs-dir", str(runs)]
    )
    assert code == 2
    assert err.startswith(
        f"{tiny_spec}: training.early_stopping.monitor: early stopping on a "
        "validation metric needs validation ratings"
    )
    assert not runs.exists()
