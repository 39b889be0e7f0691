"""Issue 17: values the schema used to accept silently or crash on later.

Each test breaks one thing in the tiny spec and asserts the one line on stderr, exit
code 2 and that ``train`` wrote nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from recexp import memory
from recexp.cli import app
from recexp.config import load_spec
from recexp.errors import ConfigError
from recexp.spec_yaml import load_yaml

from .conftest import TINY

runner = CliRunner()


def train(spec: Path, *extra: str) -> tuple[int, str, Path]:
    runs = spec.parent / "runs"
    result = runner.invoke(app, ["train", str(spec), "--runs-dir", str(runs), *extra])
    return result.exit_code, result.stderr, runs


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_duplicate_key_names_both_lines(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(TINY.replace("  dim: 4\n", "  dim: 4\n  dim: 16\n"))  # lines 10, 11
    code, err, runs = train(spec)
    assert code == 2 and not runs.exists()
    assert one_line(err) == (
        f"{spec}: model.dim: duplicate key 'dim' on lines 10 and 11; keep one of them"
    )


def test_duplicate_top_level_name(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(TINY + "name: other\n")
    code, err, runs = train(spec)
    assert code == 2 and not runs.exists()
    assert (
        one_line(err) == f"{spec}: name: duplicate key 'name' on lines 1 and 14; keep one of them"
    )


def test_duplicate_key_in_a_set_value(tiny_spec: Path) -> None:
    code, err, runs = train(tiny_spec, "--set", "model={family: mf, dim: 3, dim: 4}")
    assert code == 2 and not runs.exists()
    assert one_line(err) == (
        f"{tiny_spec}: model.dim: duplicate key 'dim' (got '{{family: mf, dim: 3, dim: 4}}')"
    )


def test_load_yaml_keeps_merge_keys_and_aliases() -> None:
    text = "base: &b {a: 1, b: 2}\nx:\n  <<: *b\n  b: 3\ny: *b\n"
    assert load_yaml(text) == {
        "base": {"a": 1, "b": 2},
        "x": {"a": 1, "b": 3},
        "y": {"a": 1, "b": 2},
    }
    with pytest.raises(ConfigError, match=r"^items\.1\.k: duplicate key 'k' on lines 3 and 3"):
        load_yaml("items:\n- {k: 1}\n- {k: 1, k: 2}\n")


BROKEN = [
    ("seed", -1, "seed: input should be greater than or equal to 0 (got -1)"),
    (
        "seed",
        10**30,
        f"seed: input should be less than or equal to 4294967295 (got {10**30})",
    ),
    ("model.l2", ".inf", "model.l2: input should be a finite number (got inf)"),
    (
        "training.warmup_epochs",
        ".inf",
        "training.warmup_epochs: input should be a finite number (got inf)",
    ),
    (
        "dataset.n_users",
        10**12,
        "dataset.n_users: input should be less than or equal to 2147483647 (got 1000000000000)",
    ),
    (
        "training.early_stopping.monitor",
        "val_auc",
        "training.early_stopping.monitor: unknown metric 'val_auc'; expected one of: "
        "loss, rmse, mae, val_loss, val_rmse, val_mae, or val_<ranking metric>@k "
        "(e.g. val_ndcg@10) (got 'val_auc')",
    ),
]


@pytest.mark.parametrize(("key", "value", "message"), BROKEN, ids=[b[0] for b in BROKEN])
def test_values_the_code_cannot_handle(tiny_spec: Path, key: str, value: object, message: str):
    code, err, runs = train(tiny_spec, "--set", f"{key}={value}")
    assert code == 2 and not runs.exists()
    assert one_line(err) == f"{tiny_spec}: {message}"


def test_unknown_initializer(tiny_spec: Path) -> None:
    code, err, runs = train(tiny_spec, "--set", "embedding.initializer=bogus")
    assert code == 2 and not runs.exists()
    line = one_line(err)
    assert line.startswith(f"{tiny_spec}: embedding.initializer: unknown Keras initializer 'bogus'")
    assert "he_normal" in line and line.endswith("(got 'bogus')")


def test_unknown_mlp_activation(tiny_spec: Path) -> None:
    code, err, runs = train(tiny_spec, "--set", "model={family: mlp, activation: bogus}")
    assert code == 2 and not runs.exists()
    line = one_line(err)
    assert line.startswith(f"{tiny_spec}: model.activation: unknown Keras activation 'bogus'")
    assert "relu" in line


def test_huge_dim_refused_before_building(tiny_spec: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "machine_memory", lambda: 16 * 2**30)
    code, err, runs = train(tiny_spec, "--set", "model.dim=1000000000")
    assert code == 2 and not runs.exists()
    assert one_line(err) == (
        f"{tiny_spec}: model.dim: the embedding tables for 40 users and 30 items need about "
        "260.8 GiB (782.3 GiB with the optimizer's state), more than this machine's "
        "16.0 GiB of memory (got 1000000000)"
    )


def test_embedding_estimate_by_strategy() -> None:
    config = load_spec_text(TINY)
    # mf dim 4: 40 x 4 + 30 x 4 rows, plus 70 biases, float32
    assert memory.estimate_embedding_bytes(config, 40, 30) == (160 + 120 + 70) * 4
    neumf = load_spec_text(TINY, "model={family: neumf, gmf_dim: 2, mlp_dim: 3}")
    assert memory.estimate_embedding_bytes(neumf, 10, 5) == ((10 + 5) * (2 + 3) + 15) * 4
    hashed = load_spec_text(TINY, "embedding={strategy: hashing, num_bins: 7}")
    assert memory.estimate_embedding_bytes(hashed, 40, 30) == (7 * 4 * 2 + 70) * 4
    qr = load_spec_text(TINY, "embedding={strategy: quotient_remainder, num_buckets: 8}")
    assert memory.estimate_embedding_bytes(qr, 40, 30) == ((8 + 8) * 4 * 2 + 70) * 4


def test_known_dataset_sizes_are_checked(tiny_spec: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(memory, "machine_memory", lambda: 2**30)
    with pytest.raises(ConfigError, match=r"model\.dim: .* for 6040 users and 3706 items"):
        load_spec(tiny_spec, ["dataset={name: movielens-1m}", "model.dim=100000"])


def load_spec_text(text: str, *overrides: str):  # type: ignore[no-untyped-def]
    data = yaml.safe_load(text)
    from recexp.config import validate
    from recexp.spec_yaml import apply_override

    for item in overrides:
        apply_override(data, item)
    return validate(data)


def test_keras_name_lists_match_keras() -> None:
    keras = pytest.importorskip("keras")
    from keras.src.activations import ALL_OBJECTS_DICT as activations
    from keras.src.initializers import ALL_OBJECTS_DICT as initializers

    from recexp.schema import KERAS_ACTIVATIONS, KERAS_INITIALIZERS

    assert set(KERAS_ACTIVATIONS) == set(activations)
    assert set(KERAS_INITIALIZERS) == set(initializers) - {"Initializer", "initializer"}
    assert keras.initializers.get("he_normal") is not None


def test_synthetic_data_too_big_to_generate(tiny_spec: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(memory, "machine_memory", lambda: 16 * 2**30)
    code, err, runs = train(tiny_spec, "--set", "dataset.n_users=2000000000")
    assert code == 2 and not runs.exists()
    line = one_line(err)
    assert line.startswith(f"{tiny_spec}: dataset.n_users: generating 2000000000 x 30 synthetic")
    assert line.endswith("more than this machine's 16.0 GiB of memory (got 2000000000)")
