"""``recexp report``: many runs in one self-contained HTML file.

The file holds the compare table (with the paired statistics of ``compare --stats``),
the runs' validation curves on one figure, test RMSE against parameters and train
seconds, and per run its curves, its errors by activity and its config.yaml. Images
are base64 PNGs in the page, the CSS is inline, there is no script and no network
reference: it opens from a file:// path, offline, in any browser.
"""

from __future__ import annotations

import base64
import contextlib
import html
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from recexp import __version__
from recexp.compare import render_markdown, resolve_reference
from recexp.compare_rows import COLUMNS, best_run, collect, fingerprint_warning, sort_rows
from recexp.compare_stats import RESAMPLES, STAT_COLUMNS, paired_stats
from recexp.errors import ConfigError

#: compare columns shown left-aligned (text); every other column is a number
TEXT_COLUMNS = {"run", "dataset", "model", "embedding", "optimizer", "status", "d_rmse_ci"}

CSS = """
:root { --fg: #1d2330; --muted: #5b6475; --line: #d9dee7; --best: #e7f5ea; --bad: #fdecec; }
* { box-sizing: border-box; }
body { margin: 0 auto; padding: 24px 32px 48px; max-width: 1500px; color: var(--fg);
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; padding-bottom: 4px;
     border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 0 0 6px; font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
p.meta, p.note { color: var(--muted); margin: 4px 0; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
p.warning { background: #fff6db; border-left: 4px solid #e0a800; padding: 6px 10px; }
.scroll { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; }
.scroll.narrow { width: fit-content; max-width: 100%; }
table { border-collapse: collapse; font-size: 12.5px; width: 100%; }
th, td { padding: 4px 7px; border-bottom: 1px solid var(--line); }
td.num, td.run { white-space: nowrap; }
th { background: #f3f5f9; text-align: left; font-weight: 600; vertical-align: bottom; }
th.num { text-align: right; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:nth-child(even) td { background: #fafbfd; }
tr.best td { background: var(--best); font-weight: 600; }
tr.bad td { background: var(--bad); }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 16px; }
img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; }
section.run { border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px;
              margin: 14px 0; }
.run-body { display: grid; grid-template-columns: minmax(0, 720px) minmax(260px, 1fr); gap: 16px;
            align-items: start; }
.run-body .wide { grid-column: 1 / -1; }
pre { margin: 0; padding: 10px 12px; background: #f6f8fa; border: 1px solid var(--line);
      border-radius: 6px; font-size: 12px; overflow: auto; max-height: 460px; }
.label { color: var(--muted); font-size: 12px; margin: 0 0 4px; }
@media (max-width: 900px) { .run-body { grid-template-columns: 1fr; } }
"""


def _img(png: bytes, alt: str, width: int | None = None) -> str:
    data = base64.b64encode(png).decode("ascii")
    size = f' width="{width}"' if width else ""
    return f'<img alt="{html.escape(alt)}"{size} src="data:image/png;base64,{data}">'


def _figure_png(fig: Any) -> bytes:
    from recexp.plots_common import png_bytes

    return png_bytes(fig)


def _td_class(key: str) -> str:
    if key == "run":
        return " class=run"
    return "" if key in TEXT_COLUMNS else " class=num"


def _table(
    rows: list[dict[str, Any]],
    columns: list[tuple[str, str]],
    best: str | None,
    narrow: bool = False,
) -> str:
    """The compare table as HTML, cell text exactly as ``recexp compare --format markdown``."""
    lines = render_markdown(rows, columns).splitlines()
    head = "".join(
        f"<th{'' if key in TEXT_COLUMNS else ' class=num'}>{html.escape(title)}</th>"
        for key, title in columns
    )
    body = []
    for row, line in zip(rows, lines[2:], strict=True):
        cells = line.strip()[2:-2].split(" | ")
        tds = "".join(
            f"<td{_td_class(key)}>{html.escape(text)}</td>"
            for (key, _), text in zip(columns, cells, strict=True)
        )
        cls = "best" if row["run"] == best else ("bad" if row["status"] != "completed" else "")
        body.append(f'<tr class="{cls}">{tds}</tr>' if cls else f"<tr>{tds}</tr>")
    return (
        f'<div class="scroll{" narrow" if narrow else ""}"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _run_section(row: dict[str, Any]) -> str:
    from recexp import plots_run as plots

    path = Path(row["path"])
    pictures = Path(row.get("source") or path)  # a parent: its selected or first child's
    images = {}
    for name, make in (
        (plots.CURVES_PNG, lambda: plots.curves_figure(pictures)),
        (plots.ERRORS_PNG, lambda: (plots.errors_figure(pictures) or (None,))[0]),
    ):
        file = pictures / name
        if file.is_file():  # the picture the run wrote (with training counts)
            images[name] = _img(file.read_bytes(), f"{row['run']} {name}")
        else:
            fig = make()
            if fig is not None:
                images[name] = _img(_figure_png(fig), f"{row['run']} {name}")
    curves = images.get(plots.CURVES_PNG, '<p class="note">no history.csv</p>')
    errors = images.get(plots.ERRORS_PNG)
    wide = f'<div class="wide">{errors}</div>' if errors else ""
    config = path / "config.yaml"
    config_text = config.read_text(errors="replace") if config.is_file() else "(no config.yaml)"
    status = row["status"] + (f": {row['error']}" if row.get("error") else "")
    if row.get("source_via"):
        status += f" · pictures of {row['source_via']}"
    return (
        f'<section class="run" id="{html.escape(row["run"])}">'
        f"<h3>{html.escape(row['run'])}</h3>"
        f'<p class="meta">{html.escape(str(path))} · status {html.escape(status)}</p>'
        f'<div class="run-body"><div>{curves}</div>'
        f'<div><p class="label">config.yaml</p><pre>{html.escape(config_text)}</pre></div>'
        f"{wide}</div></section>"
    )


def _stats_section(rows: list[dict[str, Any]], ref: str | None, best: str | None) -> list[str]:
    """The paired statistics against run ``ref`` (None: no run to pair), as compare --stats."""
    if ref is None:
        return ['<p class="note">None: the reference run has no predictions.parquet.</p>']
    stat_columns = [("run", "run"), ("test_rmse", "test RMSE"), *STAT_COLUMNS]
    notes = [f"{r['run']}: {r['paired_note']}" for r in rows if r.get("paired_note")]
    return [
        _table(rows, stat_columns, best, narrow=True),
        *(f'<p class="note">{html.escape(note)}</p>' for note in notes),
        f'<p class="note">As <code>recexp compare --stats</code>, paired against '
        f"<b>{html.escape(ref)}</b>: d RMSE = run − reference on the test ratings both "
        f"scored; 95% CI from {RESAMPLES:,} paired bootstrap resamples of those ratings "
        "(* = the interval excludes 0: more than test-set noise); - = not on the same data "
        "or no predictions.parquet.</p>",
    ]


def _figures_section(run_paths: Sequence[str | Path]) -> list[str]:
    """The runs' validation curves and test RMSE against params and train seconds (each
    figure left out when no run has what it draws)."""
    from recexp import plots_runs

    figures = []
    with contextlib.suppress(ConfigError):  # no run with a history
        fig = plots_runs.curves_many_figure(run_paths)
        figures.append(_img(_figure_png(fig), "val RMSE curves"))
    for x in ("params", "train_seconds"):
        with contextlib.suppress(ConfigError):  # no run with both values
            fig = plots_runs.scatter_figure(run_paths, x)
            figures.append(_img(_figure_png(fig), f"RMSE vs {x}"))
    if not figures:
        return []
    return ["<h2>Curves and trade-offs</h2>", f'<div class="figures">{"".join(figures)}</div>']


def render_report(
    run_paths: Sequence[str | Path],
    *,
    reference: str | None = None,
    title: str = "recexp report",
) -> str:
    """The report as one HTML string; raises ConfigError when no run is readable or
    ``reference`` names no run among them."""
    rows, problems = collect(run_paths)
    if not rows:
        raise ConfigError("no readable run directory among those given")
    rows = sort_rows(rows)
    reference = resolve_reference(rows, reference)
    best = best_run(rows)
    ref = paired_stats(rows, reference)

    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="meta">{len(rows)} runs · written '
        f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} by recexp {__version__}"
        "</p>",
    ]
    warning = fingerprint_warning(rows)
    if warning:
        parts.append(f'<p class="warning">{html.escape(warning)}</p>')
    for problem in problems:
        parts.append(
            f'<p class="warning">{html.escape(problem["path"])}: skipped: '
            f"{html.escape(problem['reason'])}</p>"
        )
    parts += [
        "<h2>Runs</h2>",
        _table(rows, COLUMNS, best),
        '<p class="note">As <code>recexp compare</code>: best test RMSE first (highlighted); '
        "vs mean / vs biases: test RMSE relative to the global-mean and biases baselines.</p>",
        "<h2>Paired statistics</h2>",
        *_stats_section(rows, ref, best),
        *_figures_section(run_paths),
        "<h2>Each run</h2>",
        *(_run_section(row) for row in rows),
    ]
    body = "\n".join(parts)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{CSS}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def write_report(
    run_paths: Sequence[str | Path],
    out_html: str | Path,
    *,
    reference: str | None = None,
    title: str = "recexp report",
) -> Path:
    """Write :func:`render_report` to ``out_html`` (atomically); returns the path."""
    out = Path(out_html)
    text = render_report(run_paths, reference=reference, title=title)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return out
