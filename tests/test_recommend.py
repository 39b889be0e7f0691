"""recexp recommend: a finished run's top items for one user, checked against the model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from recexp.cli import app
from recexp.errors import ConfigError, DataError
from recexp.recommend import load_run, recommend

runner = CliRunner()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from .conftest import TINY

    root = tmp_path_factory.mktemp("rec")
    spec = root / "tiny.yaml"
    spec.write_text(TINY)
    out = {}
    for family in ("mf", "biases"):
        result = runner.invoke(
            app,
            ["train", str(spec), "--set", f"model={{family: {family}}}", "--set", f"name={family}"]
            + ["--runs-dir", str(root / "runs"), "-q"],
        )
        assert result.exit_code == 0, result.output
        (out[family],) = (root / "runs").glob(f"*-{family}")
    return out


def test_top_items_are_the_models_best_unrated_items(runs):
    _, data, model = load_run(runs["mf"])
    predict = model.predict
    code = 0
    raw_user = data.users.inverse(np.array([code]))[0]
    rated = set(data.train.item[data.train.user == code].tolist())
    result = recommend(runs["mf"], str(raw_user), k=5)
    assert result.known_user and result.n_rated == len(rated)
    codes = data.items.transform(result.table["item"].to_numpy())
    assert len(codes) == 5 and not rated & set(codes.tolist())
    # the same numbers as the model's own predictions, best first over all unrated items
    unrated = np.array([i for i in range(data.n_items) if i not in rated], dtype=np.int32)
    raw = predict(np.full(len(unrated), code, dtype=np.int32), unrated)
    best = unrated[np.argsort(-raw, kind="stable")[:5]]
    np.testing.assert_array_equal(codes, best)
    expected = data.scale.clip(np.sort(raw)[::-1][:5])
    np.testing.assert_allclose(result.table["predicted"], expected, rtol=1e-5)
    train_counts = np.bincount(data.train.item, minlength=data.n_items)
    assert result.table["ratings"].tolist() == train_counts[codes].tolist()


@pytest.mark.parametrize("family", ["mf", "biases"])
def test_a_fresh_process_recommends(runs, family):
    """`recexp recommend` as a user runs it: a new process, where no model module has been
    imported yet (Keras' recommender classes are defined on import)."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "recexp", "recommend", str(runs[family]), "--user", "1"]
        + ["--top", "3", "--format", "csv"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("rank,item") and len(lines) == 4
    # TensorFlow's start-up lines (oneDNN, cuda drivers, cuInit) are held back, as in train
    assert done.stderr == "", done.stderr[-2000:]


def test_include_rated_and_min_ratings(runs):
    _, data, _ = load_run(runs["mf"])
    raw_user = str(data.users.inverse(np.array([0]))[0])
    everything = recommend(runs["mf"], raw_user, k=data.n_items, include_rated=True)
    assert len(everything.table) == data.n_items
    assert everything.table["rated"].sum() == everything.n_rated
    popular = recommend(runs["mf"], raw_user, k=data.n_items, min_ratings=12)
    counts = np.bincount(data.train.item, minlength=data.n_items)
    rated = set(data.train.item[data.train.user == 0].tolist())
    assert len(popular.table) == sum(
        1 for i in range(data.n_items) if counts[i] >= 12 and i not in rated
    )
    assert (popular.table["ratings"] >= 12).all()


def test_unknown_user_gets_the_biases_fallback_and_baselines_work(runs):
    result = recommend(runs["mf"], "no-such-user", k=3)
    assert not result.known_user and result.n_rated == 0
    # the fallback is the global mean plus the item bias: the same order as the biases run
    from_biases = recommend(runs["biases"], "no-such-user", k=3)
    assert result.table["item"].tolist() == from_biases.table["item"].tolist()


def test_cli_formats_and_errors(runs, tmp_path: Path):
    result = runner.invoke(
        app,
        ["recommend", str(runs["mf"]), "--user", "0", "-k", "2"]
        + [
            "--format",
            "csv",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "rank,item,predicted,ratings"
    assert len(result.output.splitlines()) == 3

    result = runner.invoke(app, ["recommend", str(tmp_path), "--user", "0"])
    assert result.exit_code == 2
    assert result.output.strip() == f"{tmp_path}: not a finished recexp run: no config.yaml"
    result = runner.invoke(app, ["recommend", str(runs["mf"]), "--user", "0", "--format", "xml"])
    assert result.exit_code == 2 and "--format: expected table, csv or json" in result.output
    with pytest.raises(ConfigError, match="--top: must be at least 1"):
        recommend(runs["mf"], "0", k=0)

    moved = tmp_path / "run"
    shutil.copytree(runs["mf"], moved)
    metrics = json.loads((moved / "metrics.json").read_text())
    metrics["fingerprint"] = {"ratings": "something else"}
    (moved / "metrics.json").write_text(json.dumps(metrics))
    with pytest.raises(DataError, match="no longer matches the run's dataset fingerprint"):
        recommend(moved, "0")


def test_a_sweep_recommends_with_its_selected_trial(tiny_spec: Path, tmp_path: Path):
    from recexp.tune.grid import run_sweep

    parent = run_sweep(tiny_spec, {"model.dim": [2, 5]}, runs_root=tmp_path, quiet=True).path
    record = json.loads((parent / "study.json").read_text())
    (chosen,) = [t for t in record["trials"] if t["number"] == record["selected"]]
    via_sweep = recommend(parent, "0", k=3).table
    assert via_sweep.equals(recommend(parent / chosen["run_dir"], "0", k=3).table)


def test_a_sweep_from_before_sweeps_were_studies_still_recommends(runs, tmp_path: Path):
    parent = tmp_path / "old-sweep"
    shutil.copytree(runs["mf"], parent / "trials" / "t0")
    for name in ("config.yaml", "metrics.json"):
        shutil.copy(runs["mf"] / name, parent / name)
    record = {"trials": [{"index": 0, "path": "trials/t0"}], "selected": 0}
    (parent / "sweep.json").write_text(json.dumps(record))
    assert recommend(parent, "0", k=3).table.equals(recommend(runs["mf"], "0", k=3).table)
    (parent / "sweep.json").write_text(json.dumps({**record, "selected": None}))
    with pytest.raises(ConfigError, match="this sweep selected no trial"):
        recommend(parent, "0")


@pytest.mark.parametrize("kind", ["folds", "seeds"])
def test_a_repeated_run_asks_for_one_of_its_runs(runs, tmp_path: Path, kind):
    parent = tmp_path / "parent"
    (parent / kind).mkdir(parents=True)
    for name in ("config.yaml", "metrics.json"):
        shutil.copy(runs["mf"] / name, parent / name)
    with pytest.raises(ConfigError) as err:
        recommend(parent, "0")
    assert str(err.value) == (
        f"{parent}: this run keeps one model per {kind[:-1]}: pass one of its {kind}/ runs"
    )


def _damaged(runs, tmp_path: Path, file: str, content: bytes) -> Path:
    copy = tmp_path / "damaged"
    shutil.copytree(runs["mf"], copy)
    (copy / file).write_bytes(content)
    return copy


@pytest.mark.parametrize(
    ("file", "content", "expected"),
    [
        ("model.keras", b"", "the saved model cannot be loaded"),
        ("model.keras", b"PK\x03\x04 truncated", "the saved model cannot be loaded"),
        ("metrics.json", b'{"test": {"rmse": 0.9', "unreadable metrics.json (JSONDecodeError)"),
        ("recommender.json", b'{"class": "Nope"}', "recommender.json names no known model class"),
    ],
)
def test_a_damaged_run_is_one_line(runs, tmp_path: Path, file: str, content: bytes, expected):
    copy = _damaged(runs, tmp_path, file, content)
    result = runner.invoke(app, ["recommend", str(copy), "--user", "100"])
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith(f"{copy}: ") and expected in line


def test_a_model_of_another_architecture_is_refused(runs, tmp_path: Path):
    """A well-formed model.keras from another run (here: the tiny mf trained again with
    dim 8) is not this run's model: its parameter count differs from summary.json."""
    from .conftest import TINY

    spec = tmp_path / "other.yaml"
    spec.write_text(TINY)
    result = runner.invoke(
        app, ["train", str(spec), "-q", "--set", "model.dim=8", "--runs-dir", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.output
    (other,) = (tmp_path / "o").iterdir()
    copy = _damaged(runs, tmp_path, "model.keras", (other / "model.keras").read_bytes())
    result = runner.invoke(app, ["recommend", str(copy), "--user", "100"])
    assert result.exit_code == 2
    assert "not this run's model" in result.output and "(see summary.json)" in result.output


def test_an_interrupted_run_is_served_with_one_warning(runs, tmp_path: Path):
    copy = tmp_path / "interrupted"
    shutil.copytree(runs["mf"], copy)
    status = json.loads((copy / "status.json").read_text())
    (copy / "status.json").write_text(json.dumps({**status, "status": "interrupted"}))
    result = runner.invoke(
        app, ["recommend", str(copy), "--user", "0", "-k", "2", "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"warning: {copy}: this run is interrupted, not completed: served with the weights it kept"
    ]
    assert result.stdout.splitlines()[0] == "rank,item,predicted,ratings"


def test_an_unknown_user_is_said_and_refused_with_strict(runs):
    args = ["recommend", str(runs["mf"]), "--user", "nobody", "-k", "2", "--format", "csv"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "warning: user 'nobody' is unknown (not in the run's data): the cold-start list "
        "(biases fallback: global mean + item bias)"
    ]
    assert len(result.stdout.splitlines()) == 3
    result = runner.invoke(app, [*args, "--strict"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"{runs['mf']}: --user: user is unknown (not in the run's data); --strict serves no "
        "cold-start list (got 'nobody')"
    ]
    known = runner.invoke(app, ["recommend", str(runs["mf"]), "--user", "0", "--strict"])
    assert known.exit_code == 0 and known.stderr == "", known.output


def test_all_users_writes_every_trained_users_list_as_one_user_asks_for_it(runs, tmp_path: Path):
    out = tmp_path / "recs.parquet"
    result = runner.invoke(
        app, ["recommend", str(runs["mf"]), "--all-users", "-o", str(out), "--top", "4"]
    )
    assert result.exit_code == 0, result.output
    import pandas as pd

    table = pd.read_parquet(out)
    _, data, _ = load_run(runs["mf"])
    trained = np.unique(data.train.user)
    assert table["user"].nunique() == len(trained) and len(table) == 4 * len(trained)
    assert table.groupby("user")["rank"].apply(list).map(lambda r: r == [1, 2, 3, 4]).all()
    for user in data.users.inverse(trained[:3]):
        one = recommend(runs["mf"], str(user), k=4).table
        mine = table[table["user"] == user]
        assert mine["item"].tolist() == one["item"].tolist()
        np.testing.assert_allclose(mine["predicted"], one["predicted"], rtol=1e-6)
    assert f"{len(trained):,} users, {len(table):,} rows" in result.output
    assert not list(tmp_path.glob(".*tmp*"))


def test_all_users_needs_an_output_file_and_no_user(runs, tmp_path: Path):
    cases = [
        (["--all-users"], "-o: --all-users writes a parquet file: give -o FILE.parquet"),
        (["--all-users", "-o", str(tmp_path / "x.csv")], "-o: the output is a parquet file"),
        (["--all-users", "-o", str(tmp_path / "r.parquet"), "--user", "1"], "--user: --all-users"),
        ([], "--user: give --user ID, or --all-users -o FILE.parquet"),
    ]
    for args, start in cases:
        result = runner.invoke(app, ["recommend", str(runs["mf"]), *args])
        assert result.exit_code == 2, result.output
        assert start in result.output and len(result.output.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())
