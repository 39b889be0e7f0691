"""End to end on tiny synthetic data: spec -> run directory -> compare."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from recexp.cli import app
from recexp.config import load_spec
from recexp.errors import TrainingError
from recexp.experiment import run_experiment

runner = CliRunner()
RUN_FILES = {
    "config.yaml",
    "summary.txt",
    "summary.json",
    "history.csv",
    "metrics.json",
    "predictions.parquet",
    "model.keras",
    "recommender.json",
    "curves.png",
    "errors.png",
    "env.json",
    "status.json",
    "ranking.parquet",
}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("runs")
    spec = root / "tiny.yaml"
    from .conftest import TINY

    spec.write_text(TINY)
    result = runner.invoke(app, ["train", str(spec), "--runs-dir", str(root / "runs"), "--quiet"])
    assert result.exit_code == 0, result.output
    (run,) = (root / "runs").iterdir()
    return run


def test_run_directory_has_every_file(tiny_run: Path):
    assert {p.name for p in tiny_run.iterdir()} == RUN_FILES
    assert json.loads((tiny_run / "status.json").read_text())["status"] == "completed"


def test_metrics_are_consistent_with_predictions(tiny_run: Path):
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    preds = pd.read_parquet(tiny_run / "predictions.parquet")
    assert len(preds) == metrics["test"]["n"] == 40  # 10% of 400 ratings
    err = preds["rating"] - preds["prediction"]
    assert metrics["test"]["rmse"] == pytest.approx(float(np.sqrt((err**2).mean())), rel=1e-5)
    assert metrics["test"]["mae"] == pytest.approx(float(err.abs().mean()), rel=1e-5)
    assert preds["prediction"].between(1, 5).all()  # clipped to the rating scale
    assert metrics["epochs_run"] == 2 and metrics["ratings_per_second"] > 0
    assert metrics["params"] == (40 + 30) * (4 + 1)  # dim-4 tables + biases, no dense layer
    assert 0 < metrics["test"]["oracle_rmse"] < metrics["baselines"]["global_mean_test_rmse"]
    assert metrics["peak_rss_mb"] > 0
    assert metrics["embedding_compression"] == 1.0  # full tables
    # the warning is there exactly when the test RMSE is not 0.5% below the biases baseline
    test, floor = metrics["test"]["rmse"], metrics["baselines"]["biases_test_rmse"]
    rating_warnings = [w for w in metrics["warnings"] if w.startswith("test RMSE")]
    assert rating_warnings == (
        [
            f"test RMSE {test:.4f} is within 0.5% of the per-user/per-item biases baseline "
            f"({floor:.4f}) or worse: the model adds (almost) nothing to the biases"
        ]
        if test >= floor * 0.995
        else []
    )
    # and the top-N one exactly when the lists are worse than the most popular items'
    ndcg = metrics["test"]["ranking"]["ndcg@10"]
    popular = metrics["baselines"]["popularity_test_ranking"]["ndcg@10"]
    top_n_warnings = [w for w in metrics["warnings"] if w.startswith("test NDCG@10")]
    assert len(top_n_warnings) == (1 if ndcg < popular else 0)
    assert len(metrics["warnings"]) == len(rating_warnings) + len(top_n_warnings)


def test_ranking_table_holds_every_test_user_of_the_protocol(tiny_run: Path):
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    table = pd.read_parquet(tiny_run / "ranking.parquet")
    assert len(table) == metrics["ranking"]["users"] > 0
    assert table["ndcg@10"].mean() == pytest.approx(metrics["test"]["ranking"]["ndcg@10"])
    assert table["recall@20"].mean() == pytest.approx(metrics["test"]["ranking"]["recall@20"])
    assert metrics["ranking"]["candidates"] == "unrated" and metrics["ranking"]["k"] == [10, 20]
    assert {t["name"] for t in metrics["embedding_tables"]} == {
        "user_embedding",
        "item_embedding",
        "user_bias",
        "item_bias",
    }


def test_saved_config_reproduces_the_spec(tiny_run: Path):
    saved = load_spec(tiny_run / "config.yaml")
    assert saved.name == "tiny" and saved.model.dim == 4  # type: ignore[attr-defined]
    history = pd.read_csv(tiny_run / "history.csv")
    assert list(history["epoch"]) == [1, 2]
    assert {"loss", "val_rmse", "learning_rate", "seconds"} <= set(history.columns)
    summary = json.loads((tiny_run / "summary.json").read_text())
    assert summary["params"] == sum(layer["params"] for layer in summary["layers"])
    assert "Total params" in (tiny_run / "summary.txt").read_text()


def test_nan_loss_fails_the_run(tiny_spec: Path, tmp_path: Path):
    config = load_spec(tiny_spec, ["optimizer.name=sgd", "optimizer.learning_rate=1e12"])
    with pytest.raises(TrainingError, match="loss became NaN at epoch 1"):
        run_experiment(config, tmp_path / "runs", quiet=True)
    (run,) = (tmp_path / "runs").iterdir()
    status = json.loads((run / "status.json").read_text())
    assert status["status"] == "failed" and "NaN" in status["error"]


def test_interrupt_keeps_history_and_best_weights(tiny_spec: Path, tmp_path: Path):
    class InterruptAfterFirstEpoch:
        def on_epoch(self, row):  # type: ignore[no-untyped-def]
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_experiment(
            load_spec(tiny_spec),
            tmp_path / "runs",
            quiet=True,
            listeners=[InterruptAfterFirstEpoch()],
        )
    (run,) = (tmp_path / "runs").iterdir()
    status = json.loads((run / "status.json").read_text())
    assert status["status"] == "interrupted"
    assert len(pd.read_csv(run / "history.csv")) == 1
    assert (run / "model.keras").exists() and (run / "metrics.json").exists()


def test_a_listener_can_stop_training_as_pruned(tiny_spec: Path, tmp_path: Path):
    from recexp.training import StopTraining

    class PruneAfterFirstEpoch:
        def on_epoch(self, row):  # type: ignore[no-untyped-def]
            raise StopTraining("pruned by the test")

    config = load_spec(tiny_spec, ["training.max_epochs=3"])
    run = run_experiment(config, tmp_path / "runs", quiet=True, listeners=[PruneAfterFirstEpoch()])
    status = json.loads((run.path / "status.json").read_text())
    assert status["status"] == "pruned" and status["reason"] == "pruned by the test"
    assert len(pd.read_csv(run.path / "history.csv")) == 1
    assert run.metrics().pruned == "pruned by the test" and run.metrics().epochs_run == 1


def test_resolved_spec_gives_the_same_numbers(tiny_run: Path, tmp_path: Path):
    again = run_experiment(load_spec(tiny_run / "config.yaml"), tmp_path, quiet=True)
    first = json.loads((tiny_run / "metrics.json").read_text())["test"]["rmse"]
    second = json.loads((again.path / "metrics.json").read_text())["test"]["rmse"]
    assert second == pytest.approx(first, abs=1e-6)
    assert yaml.safe_load((again.path / "config.yaml").read_text())["name"] == "tiny"


def test_kfold_parent_run_aggregates_folds(tiny_spec: Path, tmp_path: Path):
    from recexp.compare import collect, render_markdown
    from recexp.parents import run_folds

    config = load_spec(tiny_spec, ["dataset.split.folds=3", "training.max_epochs=1"])
    parent = run_folds(config, tmp_path / "runs", quiet=True)
    metrics = json.loads((parent.path / "metrics.json").read_text())
    folds = sorted((parent.path / "folds").iterdir())
    assert len(folds) == 3 and metrics["folds"] == 3
    test_rmse = [json.loads((f / "metrics.json").read_text())["test"]["rmse"] for f in folds]
    assert metrics["test"]["rmse"] == pytest.approx(np.mean(test_rmse))
    assert metrics["test"]["rmse_std"] == pytest.approx(np.std(test_rmse, ddof=1))
    fold_biases = [
        json.loads((f / "metrics.json").read_text())["baselines"]["biases_test_rmse"] for f in folds
    ]
    assert metrics["baselines"]["biases_test_rmse"] == pytest.approx(np.mean(fold_biases))
    # the three test folds partition the ratings
    sizes = [len(pd.read_parquet(f / "predictions.parquet")) for f in folds]
    assert sum(sizes) == 400
    rows, _ = collect([parent.path])
    assert f"{metrics['test']['rmse']:.4f} ± {metrics['test']['rmse_std']:.4f}" in render_markdown(
        rows
    )


def test_no_validation_part_writes_strict_json(tiny_spec: Path, tmp_path: Path):
    config = load_spec(tiny_spec, ["dataset.split.val=0", "training.early_stopping=null"])
    run = run_experiment(config, tmp_path, quiet=True)

    def no_nan(token: str) -> float:
        raise AssertionError(f"{token} in metrics.json")

    metrics = json.loads((run.path / "metrics.json").read_text(), parse_constant=no_nan)
    assert metrics["val"] == {"rmse": None, "mae": None, "n": 0, "n_fallback": 0}
    assert metrics["epochs_run"] == 2 and metrics["test"]["rmse"] > 0


@pytest.mark.parametrize(
    ("user", "item", "label"),
    [
        ({"strategy": "full"}, {"strategy": "full"}, "full"),
        (
            {"strategy": "quotient_remainder"},
            {"strategy": "mixed_dim"},
            "quotient_remainder/mixed_dim",
        ),
        (
            {"strategy": "mixed_dim", "blocks": [5], "dims": [8, 4], "qr_compression": [1, 4]},
            {"strategy": "mixed_dim", "blocks": [5], "dims": [8, 4], "qr_compression": [1, 4]},
            "mixed_dim+qr",
        ),
        (
            {"strategy": "mixed_dim", "blocks": [5], "dims": [8, 4], "qr_compression": [1, 1]},
            {"strategy": "mixed_dim", "blocks": [5], "dims": [8, 4], "qr_compression": [1, 4]},
            "mixed_dim/mixed_dim+qr",
        ),
    ],
)
def test_embedding_label_names_qr_blocks(user, item, label):
    from recexp.config import validate
    from recexp.run_facts import embedding_label as _embedding_label

    config = validate(
        {"name": "t", "model": {"family": "mf"}, "embedding": {"user": user, "item": item}}
    )
    assert _embedding_label(config) == label


@pytest.mark.parametrize(
    ("family", "test_rmse", "warns"),
    [("mf", 0.95, True), ("mf", 0.9332, True), ("mf", 0.93, False), ("biases", 0.95, False)],
)
def test_warning_when_no_better_than_biases(family, test_rmse, warns):
    from recexp.config import validate
    from recexp.evaluation.rating import no_better_than_biases
    from recexp.run_metrics import Metrics

    config = validate({"name": "t", "model": {"family": family}})
    metrics = Metrics.parse(
        {"test": {"rmse": test_rmse}, "baselines": {"biases_test_rmse": 0.9362}}
    )
    warning = no_better_than_biases(config.model.family, metrics)
    assert (warning is not None) == warns
    if warns:
        assert warning == (
            f"test RMSE {test_rmse:.4f} is within 0.5% of the per-user/per-item biases "
            "baseline (0.9362) or worse: the model adds (almost) nothing to the biases"
        )


@pytest.mark.usefixtures("interrupt_after_first_epoch")
def test_interrupt_stops_the_remaining_folds(tiny_spec: Path, tmp_path: Path):
    from recexp.parents import run_folds

    config = load_spec(tiny_spec, ["dataset.split.folds=3"])
    with pytest.raises(KeyboardInterrupt):
        run_folds(config, tmp_path / "runs", quiet=True)
    (parent,) = (tmp_path / "runs").iterdir()
    status = json.loads((parent / "status.json").read_text())
    assert status["status"] == "interrupted" and status["folds_completed"] == 0
    assert len(list((parent / "folds").iterdir())) == 1


def test_repeat_seeds_parent_run(tiny_spec: Path, tmp_path: Path):
    from recexp.parents import run_seeds

    config = load_spec(tiny_spec, ["training.max_epochs=1"])
    parent = run_seeds(config, [5, 6], tmp_path / "runs", quiet=True)
    metrics = json.loads((parent.path / "metrics.json").read_text())
    children = sorted((parent.path / "seeds").iterdir())
    child_metrics = [json.loads((c / "metrics.json").read_text()) for c in children]
    assert [yaml.safe_load((c / "config.yaml").read_text())["seed"] for c in children] == [5, 6]
    test_rmse = [m["test"]["rmse"] for m in child_metrics]
    assert test_rmse[0] != test_rmse[1]  # a new split and new weights per seed
    assert metrics["seeds"] == [5, 6] and len(metrics["seed_metrics"]) == 2
    assert metrics["test"]["rmse"] == pytest.approx(np.mean(test_rmse))
    assert metrics["test"]["rmse_std"] == pytest.approx(np.std(test_rmse, ddof=1))
    assert metrics["fingerprint"]["split"].startswith("seeds:")
    assert json.loads((parent.path / "status.json").read_text())["status"] == "completed"


def test_repeat_seeds_errors(tiny_spec: Path, tmp_path: Path):
    result = runner.invoke(
        app, ["train", str(tiny_spec), "--seeds", "1,1", "--runs-dir", str(tmp_path / "r")]
    )
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"{tiny_spec}: --seeds: give at least two distinct seeds (got [1, 1])"
    )
    result = runner.invoke(app, ["train", str(tiny_spec), "--seeds", "1,two"])
    assert result.exit_code == 2 and "seeds are integers separated by commas" in result.output
    result = runner.invoke(
        app,
        ["train", str(tiny_spec), "--seeds", "1,2", "--set", "dataset.split.folds=3"]
        + ["--runs-dir", str(tmp_path / "r")],
    )
    assert result.exit_code == 2 and "repeat seeds or k folds, not both" in result.output
    assert not (tmp_path / "r").exists()
