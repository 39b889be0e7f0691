"""The small things a new user met (issue 24, item 8), one test each."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from recexp.cli import app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _recexp(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100"}
    return subprocess.run(
        [sys.executable, "-m", "recexp", *args], capture_output=True, text=True, env=env, cwd=cwd
    )


def test_help_shows_flags_without_a_type() -> None:
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0
    (line,) = [line for line in result.output.splitlines() if "--version" in line]
    assert "<bool>" not in line and "Show the version." in line
    assert "<bool>" not in runner.invoke(app, ["train", "--help"]).output


def test_a_usage_error_is_one_line_with_exit_code_2() -> None:
    done = _recexp("train")
    assert done.returncode == 2 and done.stdout == ""
    prog = "python -m recexp"  # as run here; "recexp" from the console script
    assert done.stderr == f"{prog} train: Missing argument 'spec'. ({prog} train --help)\n"
    done = _recexp("compare", "runs", "--bogus")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "No such option: --bogus" in done.stderr


def test_an_unreadable_spec_is_one_line(tmp_path: Path) -> None:
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(loop)  # ELOOP: an OSError that is neither missing nor a directory
    result = runner.invoke(app, ["validate", str(loop)])
    assert result.exit_code == 2
    assert result.output == f"{loop}: cannot read spec: OSError\n"


def test_an_unknown_spec_key_gets_a_did_you_mean(tiny_spec: Path) -> None:
    cases = {
        "training.batchsize=10": "training.batchsize: unknown key (did you mean 'batch_size'?)",
        "model.dimm=3": "model.dimm: unknown key (did you mean 'dim'?)",
        "training.early_stopping.patiense=2": "(did you mean 'patience'?)",
        "datset=1": "datset: unknown key (did you mean 'dataset'?)",
        "training.zzz=1": "training.zzz: unknown key (got 1)",
    }
    for override, expected in cases.items():
        result = runner.invoke(app, ["validate", str(tiny_spec), "--set", override])
        assert result.exit_code == 2 and expected in result.output, result.output


def test_a_biases_run_is_not_compared_with_itself_and_runs_one_epoch(tmp_path: Path) -> None:
    spec = ROOT / "configs" / "tiny" / "biases.yaml"
    done = _recexp("train", str(spec), "--runs-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    (end,) = [line for line in done.stdout.splitlines() if line.startswith("test RMSE")]
    assert "(global mean " in end and "biases" not in end.split("->")[0]
    assert "epoch 1/1 " in done.stdout and "/100" not in done.stdout
    (run,) = tmp_path.iterdir()
    env = json.loads((run / "env.json").read_text())
    commit = env["recexp_git_commit"]
    if (ROOT / ".git").exists():
        assert commit and len(commit.split("+")[0]) == 40
    else:
        assert commit is None


def test_no_git_checkout_no_commit(tmp_path: Path) -> None:
    from recexp.provenance import git_commit

    assert git_commit(tmp_path) is None


def test_errors_png_item_labels_do_not_overlap(tmp_path: Path) -> None:
    import numpy as np
    import pandas as pd

    from recexp.plots_run import errors_figure
    from tests.fake_runs import make_run

    run = make_run(tmp_path, "mf", predictions=False)
    rng = np.random.default_rng(0)  # 200k test ratings, items in every count bucket
    n = 200_000
    item = rng.integers(0, 1500, n)
    rating = rng.integers(1, 6, n).astype("float32")
    frame = {"user": item % 900, "item": item, "rating": rating, "prediction": rating + 0.5}
    pd.DataFrame(frame).to_parquet(run / "predictions.parquet")
    counts = ({u: u * 2 for u in range(900)}, {i: i for i in range(1500)})
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig, _ = errors_figure(run, counts)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    for ax in fig.axes:
        boxes = [t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_text()]
        assert len(boxes) >= 6
        for a, b in zip(boxes, boxes[1:], strict=False):
            assert not a.overlaps(b), (a, b)


def test_learning_rates_in_three_digits() -> None:
    from recexp.compare_columns import cell

    assert cell("optimizer", {"optimizer": "lazy_adam lr=0.00245216"}) == "lazy_adam lr=0.00245"


def test_mlruns_is_ignored() -> None:
    assert "mlruns/" in (ROOT / ".gitignore").read_text().splitlines()


def test_a_seeds_best_epoch_says_it_is_a_mean() -> None:
    from recexp.compare_columns import cell

    assert cell("best_epoch", {"best_epoch": 12.25, "children": "seeds"}) == "12.2 (mean)"
    assert cell("best_epoch", {"best_epoch": 12.0, "children": "folds"}) == "12.0 (mean)"
    assert cell("best_epoch", {"best_epoch": 12}) == "12"
