"""recexp report: one self-contained HTML page, checked as text and in a headless browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recexp.errors import ConfigError
from recexp.report import write_report
from tests.fake_runs import make_run
from tests.test_plots import app, png_size

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def runs(tmp_path: Path) -> list[Path]:
    return [
        make_run(tmp_path, "run-mf", test_rmse=0.874, params=86_625),
        make_run(tmp_path, "run-neumf", test_rmse=0.916, params=132_801, seed=1),
        make_run(tmp_path, "run-biases", test_rmse=0.965, params=2_626, predictions=False),
    ]


def test_report_is_self_contained(tmp_path: Path, runs: list[Path]):
    out = write_report(runs, tmp_path / "out" / "report.html", reference="run-neumf")
    text = out.read_text()
    assert text.startswith("<!DOCTYPE html>")
    assert not re.search(r"https?://", text)  # nothing to fetch: works offline
    assert "<script" not in text and "<link" not in text
    # the compare table: one row per run, best first, cells as compare prints them
    table = text[text.index("<h2>Runs</h2>") : text.index("<h2>Paired statistics</h2>")]
    rows = re.findall(r"<tr[^>]*><td class=run>([^<]+)</td>", table)
    assert rows == ["run-mf", "run-neumf", "run-biases"]
    assert "<td class=num>86,625</td>" in table and "<td class=num>0.8740</td>" in table
    # paired statistics against the reference; the run without predictions is unpaired
    stats = text[text.index("<h2>Paired statistics</h2>") : text.index("<h2>Curves")]
    assert "<b>run-neumf</b>" in stats and "<td>reference</td>" in stats
    assert re.search(r"<td>\[[-+]\d\.\d{4}, [-+]\d\.\d{4}\]( \*)?</td>", stats)
    # images embedded: 3 summary figures, curves for each run, errors for two
    assert text.count('src="data:image/png;base64,') == 3 + 3 + 2
    # each run's config
    for run in runs:
        assert f"name: {run.name}" in text


def test_report_uses_the_runs_own_pictures(tmp_path: Path, runs: list[Path]):
    from recexp.plots import write_run_plots

    write_run_plots(runs[0])
    text = write_report(runs, tmp_path / "r.html").read_text()
    import base64

    encoded = base64.b64encode((runs[0] / "curves.png").read_bytes()).decode()
    assert encoded in text


def test_report_bad_input(tmp_path: Path, runs: list[Path]):
    with pytest.raises(ConfigError, match="--reference: no such run among those given"):
        write_report(runs, tmp_path / "r.html", reference="nope")
    with pytest.raises(ConfigError, match="no readable run directory"):
        write_report([tmp_path / "missing"], tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


def test_cli_report(tmp_path: Path, runs: list[Path]):
    runner = CliRunner()
    out = tmp_path / "report.html"
    result = runner.invoke(app(), ["report", *map(str, runs), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(out) and out.stat().st_size > 50_000
    result = runner.invoke(app(), ["report", *map(str, runs), "-o", str(out), "--reference", "x"])
    assert result.exit_code == 2
    assert result.output.strip() == "--reference: no such run among those given (got 'x')"
    result = runner.invoke(app(), ["report", str(runs[0]), "-o", str(tmp_path / "r.txt")])
    assert result.exit_code == 2 and result.output.count("\n") == 1


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="needs chromium (apt-get install -y chromium)")
def test_report_renders_in_headless_chromium(tmp_path: Path, runs: list[Path]):
    """The page opens from file:// in a real browser and shows the table and figures
    (the screenshot is not blank, and its top left holds the table's dark text)."""
    import numpy as np
    from PIL import Image

    report = write_report(runs, tmp_path / "report.html")
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            str(ROOT / "scripts" / "report_screenshot.sh"),
            str(report),
            str(shot),
            "1200",
            "1600",
        ],
        check=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "CHROMIUM": str(CHROMIUM), "HOME": str(tmp_path)},
    )
    assert png_size(shot) == (1200, 1600)
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.std() > 20  # not a blank page
    top = pixels[:400]
    assert (top < 80).mean() > 0.005  # text of the heading and the table
    colour = np.asarray(Image.open(shot).convert("RGB"), dtype=int)[400:]
    reds = (colour[..., 0] > 180) & (colour[..., 1] < 90) & (colour[..., 2] < 90)
    assert reds.sum() > 50  # the figures drew (val curve, Pareto front)
