"""recexp tune's search space: parsing (one line per problem), validation before anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from recexp.errors import ConfigError
from recexp.tune.grid import grid_space
from recexp.tune.points import check_space
from recexp.tune.space import Space, load_space
from tests.tune.conftest import TINY, write

runner = CliRunner()


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("[1, 2]", "a search space is a mapping of dotted spec keys to distributions (got [1, 2])"),
        (
            "model.l2: 0.1",
            "model.l2: expected a mapping with kind: float | int | categorical (got 0.1)",
        ),
        ("model.l2: {low: 1}", "model.l2.kind: required key is missing"),
        (
            "model.l2: {kind: normal}",
            "model.l2: unknown kind; expected one of: float, int, categorical (got 'normal')",
        ),
        ("model.l2: {kind: float, low: 0.1}", "model.l2.high: required key is missing"),
        (
            "model.l2: {kind: float, low: 0.5, high: 0.1}",
            "model.l2: low must be below high (got 'low 0.5, high 0.1')",
        ),
        (
            "model.l2: {kind: float, low: 0, high: 1, log: true}",
            "model.l2.low: a log scale needs low above 0 (got 0.0)",
        ),
        ("model.l2: {kind: float, low: a, high: 1}", "model.l2: low must be a number (got 'a')"),
        (
            "model.dim: {kind: int, low: 1.5, high: 8}",
            "model.dim: low must be an integer (got 1.5)",
        ),
        (
            "model.dim: {kind: int, low: 1, high: 8, step: 2, log: true}",
            "model.dim.step: log and step do not go together (got 2)",
        ),
        (
            "model.dim: {kind: int, low: 1, high: 8, choices: [1]}",
            "model.dim.choices: unknown field for kind int; expected: high, kind, log, low, "
            "step (got [1])",
        ),
        (
            "model.dim: {kind: categorical, choices: []}",
            "model.dim.choices: choices must be a non-empty list (got [])",
        ),
        (
            "model.dim: {kind: categorical, choices: [8, 8]}",
            "model.dim.choices: a choice is given twice (got 8)",
        ),
        (
            "model..dim: {kind: categorical, choices: [8]}",
            "keys are dotted spec keys like model.l2 (got 'model..dim')",
        ),
        ("model.dim: {kind: categorical, choices: [8]", "line 1: malformed YAML"),
    ],
)
def test_space_errors_are_one_line(tmp_path: Path, text: str, line: str) -> None:
    path = write(tmp_path / "space.yaml", text)
    with pytest.raises(ConfigError) as err:
        load_space(path)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: {line}")


def test_categorical_choices_may_be_whole_mappings(tmp_path: Path) -> None:
    space = load_space(
        write(
            tmp_path / "space.yaml",
            "embedding: {kind: categorical, choices: [{strategy: full}, "
            "{strategy: hashing, num_bins: 50}]}\n"
            "model.layers: {kind: categorical, choices: [[8], [16, 8]]}\n"
            "optimizer.learning_rate: {kind: float, low: 0.001, high: 0.1, log: true}\n",
        )
    )
    param = space["embedding"]
    assert param.labels == ['{"strategy": "full"}', '{"num_bins": 50, "strategy": "hashing"}']
    assert param.decode(param.labels[1]) == {"strategy": "hashing", "num_bins": 50}
    base, raw = check_space(TINY.parent / "mlp.yaml", space)
    assert base.name == "tiny-mlp" and raw["model"] == {"family": "mlp"}
    assert Space.from_dict(space.as_dict()).params == space.params


def test_a_sweep_grid_is_a_categorical_space_in_order() -> None:
    space = grid_space({"model.l2": [0.03, 0.05], "model.dim": [16, [8, 4]]})
    assert all(p.kind == "categorical" for p in space.params) and space.grid_size() == 4
    assert space.grid() == {"model.l2": [0.03, 0.05], "model.dim": [16, "[8, 4]"]}
    assert space.grid_points() == [  # the last key varying fastest; lists as JSON labels
        {"model.l2": 0.03, "model.dim": 16},
        {"model.l2": 0.03, "model.dim": "[8, 4]"},
        {"model.l2": 0.05, "model.dim": 16},
        {"model.l2": 0.05, "model.dim": "[8, 4]"},
    ]


def test_bad_points_are_refused_before_anything_is_written(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runs = tmp_path / "runs"
    # the last choice is the bad one: found before the first trial, nothing written
    space = write(
        tmp_path / "space.yaml",
        "model.dim: {kind: categorical, choices: [4, 8]}\n"
        "embedding: {kind: categorical, choices: [{strategy: full}, "
        "{strategy: hashing, num_bins: -3}]}\n",
    )
    result = runner.invoke(
        app, ["tune", str(TINY), "--space", str(space), "--trials", "2", "--runs-dir", str(runs)]
    )
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        f"{space}: embedding.num_bins: input should be greater than 0 (got -3)"
    ]
    assert not runs.exists()
    # a numeric bound: both ends are validated
    space = write(tmp_path / "space2.yaml", "model.l2: {kind: float, low: -1, high: 0.1}\n")
    result = runner.invoke(
        app, ["tune", str(TINY), "--space", str(space), "--trials", "2", "--runs-dir", str(runs)]
    )
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"{space}: model.l2: input should be greater than or equal to 0 (got -1.0)"
    )
    assert not runs.exists()


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--trials", "0"], "--trials: needs at least 1 (got 0)"),
        (["--sampler", "cma"], "--sampler: expected one of: tpe, random, grid (got 'cma')"),
        (
            ["--pruner", "hyperband"],
            "--pruner: expected one of: median, asha, none (got 'hyperband')",
        ),
        ([], "--trials: how many trials? (--trials N)"),
        (
            ["--trials", "2", "--sampler", "grid"],
            "the grid sampler needs categorical choices for every key",
        ),
        (
            ["--trials", "2", "--trial-resources", "cpu"],
            "--trial-resources: resources look like cpu=2,gpu=1",
        ),
    ],
)
def test_bad_options_are_one_line(app, tmp_path: Path, args: list[str], line: str) -> None:  # type: ignore[no-untyped-def]
    space = write(tmp_path / "space.yaml", "model.l2: {kind: float, low: 0.01, high: 0.1}\n")
    runs = tmp_path / "runs"
    result = runner.invoke(
        app, ["tune", str(TINY), "--space", str(space), "--runs-dir", str(runs), *args]
    )
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1
    assert line in result.output
    assert not runs.exists()


def test_ray_backend_without_ray_says_how_to_install(app, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a)
    )
    space = write(tmp_path / "space.yaml", "model.l2: {kind: float, low: 0.01, high: 0.1}\n")
    runs = tmp_path / "runs"
    result = runner.invoke(
        app,
        [
            "tune",
            str(TINY),
            "--space",
            str(space),
            "--trials",
            "2",
            "--backend",
            "ray",
            "--runs-dir",
            str(runs),
        ],
    )
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"{TINY}: --backend: the ray backend needs Ray: pip install 'recexp[ray]' (got 'ray')"
    )
    assert not runs.exists()


SPACES = TINY.parents[1] / "spaces"


@pytest.mark.parametrize("family", sorted(p.stem for p in SPACES.glob("*.yaml")))
def test_shipped_spaces_fit_the_tuned_specs(family: str) -> None:
    specs = TINY.parents[1] / "movielens-100k"  # the tuned spec, or its u1-fold one
    spec = next(p for p in (specs / f"{family}.yaml", specs / f"{family}_u1.yaml") if p.exists())
    space = load_space(SPACES / f"{family}.yaml")
    base, _ = check_space(spec, space)
    assert base.model.family == family
    for param in space.params:  # scale parameters are searched on a log scale
        if param.key.endswith(("learning_rate", "l2")):
            assert param.log, param.key
