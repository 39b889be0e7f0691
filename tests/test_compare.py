"""compare reads run directories only; failed or foreign directories are listed, not fatal."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from recexp.cli import app
from recexp.compare import collect, fingerprint_warning, render_csv, render_markdown, sort_rows
from recexp.runs import RunDir

runner = CliRunner()


def fake_run(
    root: Path,
    name: str,
    test_rmse: float | None,
    status: str = "completed",
    fingerprint: str = "a",
) -> Path:
    run = RunDir.create(root, name)
    run.set_status(status, **({"error": "loss became NaN"} if status == "failed" else {}))
    if test_rmse is not None:
        run.write_json(
            "metrics.json",
            {
                "dataset": "synthetic",
                "model": name,
                "embedding": "full",
                "optimizer": "adam lr=0.001",
                "params": 1000,
                "embedding_params": 800,
                "embedding_compression": 5.25,
                "best_epoch": 3,
                "val": {"rmse": test_rmse + 0.01},
                "test": {"rmse": test_rmse, "mae": round(test_rmse * 0.8, 4)},
                "baselines": {"global_mean_test_rmse": 1.0, "biases_test_rmse": 0.95},
                "train_seconds": 2.5,
                "ratings_per_second": 12345.6,
                "fingerprint": {"ratings": fingerprint, "split": "s"},
            },
        )
    return run.path


def test_rows_sorted_by_test_rmse_with_failures_last(tmp_path: Path):
    b = fake_run(tmp_path, "neumf", 0.91)
    a = fake_run(tmp_path, "mf", 0.89)
    c = fake_run(tmp_path, "broken", None, status="failed")
    (tmp_path / "notarun").mkdir()
    rows, problems = collect([b, a, c, tmp_path / "notarun", tmp_path / "missing"])
    rows = sort_rows(rows)
    assert [r["model"] for r in rows] == ["mf", "neumf", None]
    assert rows[2]["status"] == "failed" and rows[2]["error"] == "loss became NaN"
    assert [p["reason"] for p in problems] == [
        "no status.json: not a recexp run directory",
        "not a directory",
    ]
    assert sort_rows(rows, "run")[0]["run"] < sort_rows(rows, "run")[1]["run"]


def test_markdown_and_csv(tmp_path: Path):
    rows, _ = collect([fake_run(tmp_path, "mf", 0.89)])
    md = render_markdown(rows).splitlines()
    assert md[0].startswith(
        "| run | dataset | split | model | embedding | optimizer | params | emb params | emb x |"
    )
    assert (
        "| 1,000 | 800 | 5.25x | 3 | 0.9000 | 0.8900 | 0.7120 | -11.0% | -6.3% "
        "| - | - | - | - | - | 2.5 | 12,346 "
        "| completed |" in md[2]
    )
    csv_lines = render_csv(rows).splitlines()
    assert csv_lines[0].split(",")[:4] == ["run", "dataset", "split", "model"]
    assert ",0.89,0.712," in csv_lines[1]


def test_fingerprint_warning(tmp_path: Path):
    same, _ = collect([fake_run(tmp_path, "a", 0.9), fake_run(tmp_path, "b", 0.8)])
    assert fingerprint_warning(same) is None
    other, _ = collect([fake_run(tmp_path, "c", 0.9, fingerprint="zzz")])
    assert "not trained and tested on the same data" in str(fingerprint_warning(same + other))


def test_cli_json_and_unreadable(tmp_path: Path):
    good = fake_run(tmp_path, "mf", 0.89)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "status.json").write_text("{not json")
    result = runner.invoke(app, ["compare", str(good), str(bad), "--format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [r["test_rmse"] for r in data["runs"]] == [0.89]
    assert data["unreadable"] == [
        {"path": str(bad), "reason": "unreadable status.json (JSONDecodeError)"}
    ]
    assert f"{bad}: skipped: unreadable status.json" in result.stderr


def test_bad_format_and_sort_key(tmp_path: Path):
    result = runner.invoke(app, ["compare", str(tmp_path), "--format", "xml"])
    assert result.exit_code == 2 and result.stderr.startswith("--format: unknown format")
    result = runner.invoke(app, ["compare", str(tmp_path), "--sort", "speed"])
    assert result.exit_code == 2 and result.stderr.startswith("--sort: unknown column")


NO_TF = (
    "import sys\nfrom recexp.cli import main\nsys.argv[0] = 'recexp'\n"
    "try:\n    main()\nexcept SystemExit:\n    pass\n"
    "heavy = {'tensorflow', 'keras'} & set(sys.modules)\n"
    "assert not heavy, f'imported {heavy}'\n"
)


@pytest.mark.parametrize("command", ["compare", "validate", "list", "list mixed_dim", "--help"])
def test_light_commands_never_import_tensorflow(tmp_path: Path, command: str):
    from .conftest import TINY

    spec = tmp_path / "spec.yaml"
    spec.write_text(TINY)
    args = {"compare": [str(fake_run(tmp_path, "mf", 0.89))], "validate": [str(spec)]}
    argv = ["recexp", *command.split(), *args.get(command, [])]
    subprocess.run([sys.executable, "-c", NO_TF, *argv[1:]], check=True, capture_output=True)


def test_same_second_runs_get_distinct_directories(tmp_path: Path):
    paths = {RunDir.create(tmp_path, "x").path for _ in range(3)}
    assert len(paths) == 3


def _with_predictions(path: Path, prediction: list[float], rating: list[float]) -> Path:
    import pandas as pd

    n = len(rating)
    pd.DataFrame(
        {
            "user": list(range(n)),
            "item": [7] * n,
            "rating": rating,
            "prediction": prediction,
            "fallback": [False] * n,
        }
    ).to_parquet(path / "predictions.parquet")
    return path


def test_paired_stats_by_hand(tmp_path: Path):
    from recexp.compare_stats import paired_stats, with_stats

    rating = [1.0, 2.0, 3.0, 4.0]
    ref = _with_predictions(fake_run(tmp_path, "ref", 0.5), [1.5, 2.5, 3.5, 4.5], rating)
    # errors 0, 0, 1, 1: RMSE sqrt(0.5); the reference's 0.5
    run = _with_predictions(fake_run(tmp_path, "run", 0.7), [1.0, 2.0, 4.0, 5.0], rating)
    same = _with_predictions(fake_run(tmp_path, "same", 0.5), [1.5, 2.5, 3.5, 4.5], rating)
    other = _with_predictions(
        fake_run(tmp_path, "other", 0.6, fingerprint="b"), [1, 2, 3, 4], rating
    )
    bare = fake_run(tmp_path, "bare", 0.6)  # no predictions.parquet
    rows, _ = collect([ref, run, same, other, bare])
    assert paired_stats(rows, reference=rows[0]["run"]) == rows[0]["run"]
    by_model = {r["model"]: r for r in rows}
    assert by_model["ref"]["is_reference"] and by_model["ref"]["d_rmse"] == 0.0
    assert by_model["run"]["d_rmse"] == pytest.approx(np.sqrt(0.5) - 0.5)
    low, high = by_model["run"]["d_rmse_ci"]
    # every resample: errors {0, 1} against a constant 0.25, so d lies in [-0.5, 0.5]
    assert -0.5 <= low <= by_model["run"]["d_rmse"] <= high <= 0.5
    assert by_model["run"]["paired_n"] == 4
    assert by_model["same"]["d_rmse"] == 0.0 and by_model["same"]["d_rmse_ci"] == [0.0, 0.0]
    assert by_model["other"]["d_rmse"] is None  # other data: not paired
    assert by_model["bare"]["d_rmse"] is None
    md = render_markdown(rows, with_stats())
    assert "| d RMSE | 95% CI | paired |" in md and "| reference |" in md


def test_paired_stats_detect_a_real_difference(tmp_path: Path):
    from recexp.compare_stats import paired_stats

    rng = np.random.default_rng(0)
    rating = rng.integers(1, 6, 2000).astype(float)
    noise = rng.normal(0, 1, 2000)
    good = _with_predictions(fake_run(tmp_path, "good", 1.0), list(rating + noise), list(rating))
    worse = _with_predictions(
        fake_run(tmp_path, "worse", 1.1), list(rating + 1.1 * noise), list(rating)
    )
    noisy = _with_predictions(  # as good on average: its interval must straddle 0
        fake_run(tmp_path, "noisy", 1.0), list(rating + rng.permutation(noise)), list(rating)
    )
    rows, _ = collect([good, worse, noisy])
    paired_stats(rows, reference=rows[0]["run"])
    by_model = {r["model"]: r for r in rows}
    assert by_model["worse"]["d_rmse_ci"][0] > 0  # 10% larger errors, clearly
    low, high = by_model["noisy"]["d_rmse_ci"]
    assert low < 0 < high


def test_cli_stats_and_unknown_reference(tmp_path: Path):
    rating = [1.0, 2.0, 3.0, 4.0]
    a = _with_predictions(fake_run(tmp_path, "a", 0.5), [1.5, 2.5, 3.5, 4.5], rating)
    b = _with_predictions(fake_run(tmp_path, "b", 0.7), [1.0, 2.0, 4.0, 5.0], rating)
    result = runner.invoke(app, ["compare", str(a), str(b), "--stats", "--format", "csv"])
    assert result.exit_code == 0, result.output
    header = result.output.splitlines()[0].split(",")
    assert header[header.index("test_mae") + 1 : header.index("test_mae") + 4] == [
        "d_rmse",
        "d_rmse_ci",
        "paired_n",
    ]
    result = runner.invoke(app, ["compare", str(a), "--stats", "--reference", "nope"])
    assert result.exit_code == 2
    assert "--reference: no such run among those given (got 'nope')" in result.output


def test_sparkline_by_hand():
    from recexp.compare_stats import sparkline

    assert sparkline([1.0, 0.5, 0.0]) == "█▅▁"  # 0.5 of 7 steps = 3.5, rounds to 4: ▅
    assert sparkline([2.0, 2.0]) == "▁▁"
    assert sparkline([float("nan"), 1.0, 0.0]) == "█▁"
    assert sparkline([]) == ""
    assert len(sparkline([float(i) for i in range(100)], width=10)) == 10


def test_curves_column_reads_history(tmp_path: Path):
    from recexp.compare_stats import add_curves, with_curves

    run = fake_run(tmp_path, "mf", 0.9)
    (run / "history.csv").write_text(
        "epoch,loss,rmse,val_rmse\n1,1.2,1.1,1.0\n2,0.9,0.95,0.0\n3,0.8,0.9,0.25\n"
    )
    bare = fake_run(tmp_path, "bare", 0.95)
    rows, _ = collect([run, bare])
    add_curves(rows)
    assert rows[0]["curve_values"] == [1.0, 0.0, 0.25] and rows[0]["curve"] == "█▁▃"
    assert rows[1]["curve"] is None
    md = render_markdown(rows, with_curves())
    assert "| best epoch | val RMSE by epoch | val RMSE |" in md and "| █▁▃ |" in md
