"""Parents (seeds, a sweep or study) pair and plot through their selected or first child
(issue 24, item 2), and compare's table fits a terminal without cutting a number
(item 3), with the split and the spec keys that differ as columns (item 4)."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import yaml
from typer.testing import CliRunner

from recexp.cli import app
from recexp.compare import collect
from recexp.compare_stats import paired_stats
from recexp.plots_runs import curves_many_figure
from tests.fake_runs import make_run

runner = CliRunner()


def _status(path: Path, state: str = "completed") -> Path:
    (path / "status.json").write_text(json.dumps({"status": state}))
    return path


def _set(path: Path, key: str, value: object) -> None:
    config = yaml.safe_load((path / "config.yaml").read_text())
    section, leaf = key.split(".")
    config[section][leaf] = value
    (path / "config.yaml").write_text(yaml.safe_dump(config))


def _parents(root: Path) -> dict[str, Path]:
    """A plain run, a seeds parent (two seeds) and a study (two trials, the second
    selected), all on the same data; only the children have predictions and history."""
    plain = _status(make_run(root, "20261203T100000Z-mf", test_rmse=0.90))
    seeds = root / "20261203T100100Z-mf-seeds"
    for i, seed in enumerate((42, 1)):
        _status(make_run(seeds / "seeds", f"2026120{i}T1Z-mf-seed{seed}", test_rmse=0.88))
    study = root / "20261203T100200Z-mf-sweep"
    for number, dim in ((0, 8), (1, 16)):
        trial = _status(make_run(study / "trials", f"t00{number}", test_rmse=0.87))
        _set(trial, "model.dim", dim)
    for parent, metrics in ((seeds, {"seeds": 2, "best_epoch": 4.5}), (study, {})):
        _status(parent)
        (parent / "config.yaml").write_text((plain / "config.yaml").read_text())
        child = json.loads((plain / "metrics.json").read_text())
        child |= {"test": {"rmse": 0.85 if parent == study else 0.88}} | metrics
        child["fingerprint"] = {"ratings": "a", "split": "seeds:s,s"}  # as aggregate() writes
        (parent / "metrics.json").write_text(json.dumps(child))
    (study / "study.json").write_text(
        json.dumps({"trials": [{"number": 0, "run_dir": "trials/t000"},
                               {"number": 1, "run_dir": "trials/t001"}], "selected": 1})
    )  # fmt: skip
    return {"plain": plain, "seeds": seeds, "study": study}


def test_parents_pair_through_their_selected_or_first_child(tmp_path: Path) -> None:
    runs = _parents(tmp_path)
    rows, _ = collect(runs.values())
    by_run = {Path(r["path"]).name.split("-", 1)[1]: r for r in rows}
    assert paired_stats(rows) == runs["study"].name  # the best run is the study
    assert by_run["mf-sweep"]["paired_note"] == "paired through its selected trial t001"
    assert by_run["mf-seeds"]["paired_note"].startswith("paired through its first seed ")
    assert by_run["mf-seeds"]["paired_note"].endswith("-mf-seed42")
    n = by_run["mf-sweep"]["paired_n"]
    assert n and all(row["paired_n"] == n for row in rows)  # every one paired
    assert by_run["mf"]["d_rmse_ci"] is not None and by_run["mf-seeds"]["d_rmse_ci"] is not None
    # the study's selected trial's spec, not its base spec: model.dim 16 against 8
    assert by_run["mf-sweep"]["spec"]["model.dim"] == 16
    assert by_run["mf-seeds"]["best_epoch"] == 4.5


def test_parents_draw_their_childs_curve_or_are_named(tmp_path: Path) -> None:
    runs = _parents(tmp_path)
    empty = tmp_path / "20261203T100300Z-mf-seeds-empty"
    (empty / "seeds").mkdir(parents=True)
    _status(empty, "running")
    notes: list[str] = []
    fig = curves_many_figure([*runs.values(), empty], notes)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert (
        labels[0] == "mf" and labels[1].startswith("mf-seeds (") and labels[2] == "mf-sweep (t001)"
    )
    assert notes == [f"{empty}: no curve: a parent of seeds with no child run yet"]
    ticks = fig.axes[0].xaxis.get_major_locator().tick_values(1, 8)
    assert all(float(t).is_integer() for t in ticks)
    assert fig.axes[0].get_ylabel() == "val RMSE (rating units)"


def test_the_stats_cli_says_how_each_parent_is_paired(tmp_path: Path) -> None:
    runs = _parents(tmp_path)
    result = runner.invoke(app, ["compare", *map(str, runs.values()), "--stats", "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert f"paired against {runs['study'].name}" in result.stderr
    assert f"{runs['seeds'].name}: paired through its first seed" in result.stderr
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(table) == 3 and all(row["paired_n"] and row["d_rmse"] for row in table)
    assert [row["model.dim"] for row in table] == ["16", "8", "8"]  # the study's trial: 16


def _many(root: Path, n: int = 8) -> list[Path]:
    runs = []
    for i in range(n):
        run = _status(make_run(root, f"20261203T1{i:05d}Z-mf-dim{8 * (i + 1)}",
                               test_rmse=0.8 + i / 100, params=123_456_789))  # fmt: skip
        _set(run, "model.dim", 8 * (i + 1))
        runs.append(run)
    return runs


def test_a_100_column_terminal_shows_whole_numbers(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "100")
    runs = _many(tmp_path)
    result = runner.invoke(app, ["compare", *map(str, runs), "--stats"])
    assert result.exit_code == 0, result.output
    table = result.stdout.splitlines()
    assert max(len(line) for line in table) <= 100
    assert "…" not in result.stdout
    header = next(line for line in table if "test RMSE" in line)
    for title in ("run", "model", "val RMSE", "d RMSE", "model.dim"):
        assert title in header, header
    assert re.search(r"\b0\.8700\b", result.stdout)  # numbers whole
    assert "more columns do not fit this terminal" in result.stderr
    assert "ratings_per_second" in result.stderr  # named, for --columns
    # --columns chooses; markdown holds everything
    chosen = runner.invoke(app, ["compare", *map(str, runs), "--columns", "run,model.dim"])
    assert (
        chosen.exit_code == 0 and "model.dim" in chosen.stdout and "test RMSE" not in chosen.stdout
    )
    md = runner.invoke(app, ["compare", *map(str, runs), "-f", "markdown"]).stdout
    assert "| ratings/s |" in md and "| split |" in md and "| model.dim |" in md
    bad = runner.invoke(app, ["compare", *map(str, runs), "--columns", "run,nope"])
    assert bad.exit_code == 2 and bad.stderr.startswith("--columns: unknown column")


def test_the_report_pairs_and_draws_parents(tmp_path: Path) -> None:
    from recexp.report import render_report

    runs = _parents(tmp_path)
    page = render_report(list(runs.values()))
    assert "no run has a predictions.parquet" not in page and "the reference run has no" not in page
    assert f"{runs['seeds'].name}: paired through its first seed" in page
    assert "pictures of its selected trial t001" in page
    assert page.count('alt="val RMSE curves"') == 1


def test_the_table_names_runs_without_their_timestamp(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "100")
    runs = _parents(tmp_path)
    twin = _status(make_run(tmp_path / "b", "20261204T000000Z-mf", test_rmse=0.95))
    result = runner.invoke(app, ["compare", *map(str, [*runs.values(), twin])])
    names = [line.split()[0] for line in result.stdout.splitlines()[4:-1] if line.strip()]
    assert names == ["mf-sweep", "mf-seeds", "20261203T100000Z-mf", "20261204T000000Z-mf"]
    chosen = runner.invoke(app, ["compare", *map(str, runs.values()), "--stats", "--reference",
                                 "mf-seeds"])  # fmt: skip
    assert chosen.exit_code == 0 and f"paired against {runs['seeds'].name}" in chosen.stderr
    twice = runner.invoke(app, ["compare", str(runs["plain"]), str(twin), "--stats",
                                "--reference", "mf"])  # fmt: skip
    assert twice.exit_code == 2 and "more than one run is called so" in twice.stderr
