"""benchmarks/results/speed.md from speed.json (``python -m benchmarks.speed --render``)."""

from __future__ import annotations

from typing import Any


def _cases(report: dict[str, Any]) -> list[str]:
    lines = [
        "## recexp vs the seeds' plain Keras",
        "",
        "| case | spec | reference ratings/s | recexp ratings/s | speedup | reference test RMSE "
        "| recexp test RMSE | RMSE ratio | reference wall s (epochs) | recexp wall s (epochs) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in report["cases"]:
        r, f = c["reference"], c["recexp"]
        lines.append(
            f"| {c['case']} | `{c.get('spec', '')}` | {r['ratings_per_second']:,.0f} "
            f"| {f['ratings_per_second']:,.0f} | {c['speedup']:.1f}x | {r['test_rmse']:.4f} "
            f"| {f['test_rmse']:.4f} | {c['rmse_ratio']:.3f} | {r['wall_seconds']:.1f} "
            f"({r['epochs']}) | {f['wall_seconds']:.1f} ({f['epochs']}) |"
        )
    return lines


def _peers(report: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "## recexp MF vs Surprise on the same split",
        "",
        "Per-epoch ratings/s: recexp's steady-state epochs (training only, their median); "
        "Surprise's `n_epochs x n_train / fit seconds` (the median of 5 fits when one is "
        "under 10 s). *recexp s to peer's best*: recexp's epoch seconds "
        "(training + validation) summed until its test RMSE (scored after every epoch, "
        "history.csv) first reaches the peer's final test RMSE.",
        "",
        "| case | recexp spec | recexp ratings/s | recexp best test RMSE (epochs) | peer "
        "| peer settings "
        "| peer ratings/s | recexp / peer ratings/s | peer fit s | peer test RMSE "
        "| recexp s to peer's best (epoch) | recexp s / peer fit s |",
        "|---|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for c in report.get("peers", []):
        ours = c["recexp"]
        for p in c["peers"]:
            settings = ", ".join(f"{k}={v}" for k, v in p["settings"].items())
            secs = p["recexp_seconds_to_best"]
            reach = "not reached" if secs is None else f"{secs:.1f} ({p['recexp_epoch_to_best']})"
            ratio = "-" if secs is None else f"{secs / p['fit_seconds']:.2f}"
            lines.append(
                f"| {c['case']} | `{c.get('spec', '')}` | {ours['ratings_per_second']:,.0f} "
                f"| {ours['best_test_rmse']:.4f} ({ours['epochs']}) | {p['algo']} | {settings} "
                f"| {p['ratings_per_second']:,.0f} "
                f"| {ours['ratings_per_second'] / p['ratings_per_second']:.2f}x "
                f"| {p['fit_seconds']:.1f} | {p['test_rmse']:.4f} | {reach} | {ratio} |"
            )
    return lines


def _scale(report: dict[str, Any]) -> list[str]:
    if not report.get("scale"):
        return []
    lines = [
        "",
        "## Scale: MovieLens 25M's shape beside MovieLens 1M's (synthetic, speed settings)",
        "",
        "Each shape's processes alternated with the other's; ratings/s is the median run's "
        "(every run's in the last column).",
        "",
        "| family (optimizer) | shape | users x items x ratings | ratings/s | 25M / 1M "
        "| peak RSS MB | load + encode s | epochs (steps per epoch) | test RMSE "
        "| runs' ratings/s |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for c in report["scale"]:
        for shape, key in (("1M", "ml1m_shape"), ("25M", "ml25m_shape")):
            r = c[key]
            steps = c["steps_per_epoch"] if shape == "25M" and c["steps_per_epoch"] else "all"
            ratio = f"{c['ratio']:.2f}" if shape == "25M" else ""
            lines.append(
                f"| {c['family']} ({r.get('optimizer', 'lazy_adam')}) | {shape} "
                f"| {r['users']:,} x {r['items']:,} x {r['ratings']:,} "
                f"| {r['ratings_per_second']:,.0f} | {ratio} "
                f"| {r['peak_rss_mb']:,.0f} | {r['load_encode_seconds']:.1f} "
                f"| {r['epochs']} ({steps}) | {r['test_rmse']:.4f} "
                f"| {', '.join(f'{x:,.0f}' for x in r.get('rounds', []))} |"
            )
    return lines


def _by_shape(shapes: dict[str, Any] | None, labels: dict[str, str]) -> list[str]:
    """The pieces at the 1M and the 25M shape side by side (same spec, 240 batches)."""
    if not shapes:
        return []
    small, big = shapes["1M"], shapes["25M"]
    rows = {k: small["rows_per_batch"][k] for k in ("user", "item")}
    big_rows = {k: big["rows_per_batch"][k] for k in ("user", "item")}
    lines = [
        "",
        f"The same pieces over {big['steps']} batches at the 1M and the 25M shape (same spec): "
        f"epoch {small['ratings_per_second']:,.0f} vs {big['ratings_per_second']:,.0f} ratings/s "
        f"({big['ratings_per_second'] / small['ratings_per_second']:.2f}x); distinct rows per "
        f"batch of {big['batch_size']:,} (what the lazy optimizer updates): "
        f"users {rows['user']:,.0f} vs {big_rows['user']:,.0f}, items {rows['item']:,.0f} vs "
        f"{big_rows['item']:,.0f} ({sum(big_rows.values()) / sum(rows.values()):.2f}x).",
        "",
        f"| piece (seconds per {big['steps']} batches) | 1M shape | 25M shape | 25M / 1M |",
        "|---|---:|---:|---:|",
    ]
    for key, label in labels.items():
        if key in small["pieces"] and key in big["pieces"]:
            a, b = small["pieces"][key], big["pieces"][key]
            lines.append(f"| {label} | {a:.3f} | {b:.3f} | {b / a:.2f}x |")
    return lines


def _shape_levers(rows: list[dict[str, Any]] | None, steps: int) -> list[str]:
    """The 25M / 1M ratio under each lever (benchmarks/speed_shape_levers.py)."""
    if not rows:
        return []
    lines = [
        "",
        f"Levers on the 25M / 1M ratio ({steps} batches an epoch at each shape, every engine "
        "built first, then run in turn for 4 rounds; medians of rounds 2-4):",
        "",
        "| lever | 1M shape ratings/s | 25M shape ratings/s | 25M / 1M |",
        "|---|---:|---:|---:|",
    ]
    for r in rows:
        rps = r["ratings_per_second"]
        lines.append(f"| {r['lever']} | {rps['1M']:,.0f} | {rps['25M']:,.0f} | {r['ratio']:.2f} |")
    return lines


def _profile(report: dict[str, Any]) -> list[str]:
    p = report.get("profile")
    if not p:
        return []
    pieces = p["pieces"]
    lines = [
        "",
        f"## Profile of one mf epoch (MovieLens 1M shape, {p['n_train']:,} ratings, batch "
        f"{p['batch_size']}, {p['steps']} steps, {p.get('optimizer', 'LazyAdam')})",
        "",
        f"Epoch wall {p['epoch_wall']:.2f} s ({p['ratings_per_second']:,.0f} ratings/s): "
        f"inside graph calls {p['graph']:.2f} s, Python between calls {p['python']:.3f} s.",
        "",
        "| piece (seconds per epoch, same batches, one graph loop) | s | share of train_step |",
        "|---|---:|---:|",
    ]
    full = pieces["train_step"]
    labels = {
        "inputs": "slice the batch's codes and ratings",
        "forward": "+ forward (4 row gathers, dot, loss)",
        "forward_backward": "+ gradients (IndexedSlices)",
        "train_step": "+ optimizer scatter updates and metrics (Keras train_step)",
        "gather_only": "the 4 tables' row gathers alone",
        "unique_only": "merging repeated ids (tf.unique) alone",
        "scatter_only": "tf.unique + scatter_sub of the distinct rows (optimizers before)",
        "rewrite_only": "tf.unique + the distinct rows rewritten whole (optimizers since)",
    }
    for key, label in labels.items():
        if key in pieces:
            lines.append(f"| {label} | {pieces[key]:.3f} | {pieces[key] / full:.0%} |")
    lines += _by_shape(p.get("by_shape"), labels)
    lines += _shape_levers(p.get("shape_levers"), p["steps"])
    lines += [
        "",
        "Levers: full epochs, the levers interleaved round by round (a slow spell of the shared "
        "machine hits all alike), medians of rounds 2-4; the one-step, whole-epoch and XLA "
        "engines share one model, so only baseline and bfloat16 RMSEs compare:",
        "",
        "| lever | epoch s | ratings/s | vs baseline | train RMSE after 4 epochs | tables |",
        "|---|---:|---:|---:|---:|---|",
    ]
    base = p["levers"][0].get("ratings_per_second")
    for lever in p["levers"]:
        if "error" in lever:
            lines.append(f"| {lever['lever']} | - | - | - | - | failed: {lever['error']} |")
            continue
        rmse = lever.get("train_rmse_after_4_epochs", lever.get("train_rmse_after_3_epochs"))
        lines.append(
            f"| {lever['lever']} | {lever['epoch_seconds']:.2f} "
            f"| {lever['ratings_per_second']:,.0f} "
            f"| {lever['ratings_per_second'] / base:.2f}x "
            f"| {'-' if rmse is None else f'{rmse:.4f}'} | {lever.get('table_dtype', '')} |"
        )
    return lines


NOTES = """
## Notes and limits

- Each side runs in its own process: the seeds' Keras (`benchmarks/speed_reference.py`) with
  TensorFlow's default thread pools, recexp as `recexp train SPEC` with the spec's
  `training.threads` (the speed specs and the neumf accuracy spec: `intra_op: 1`), Surprise
  (single-threaded Cython) in the peers section's process. The 2-core machine ran this alone
  (the load average below); absolute ratings/s still move by tens of percent between runs,
  so compare ratios inside a table.
- Surprise's settings are written in `benchmarks/speed_peers.py`; on ML-100K they are the
  usual tuned SVD settings (100 factors, 30 epochs, lr 0.01, reg 0.1: val RMSE 0.9073 on this
  split); on the Jester shape SVD was tuned on validation with `python -m
  benchmarks.speed_peers ... --tune` (17 points; 20 factors, 20 epochs, lr 0.001, reg 0.1:
  val 3.8967, against 4.3331 for the untuned settings of runs before 2026-12-02), and
  recexp's Jester spec was re-tuned beside it on val RMSE (2026-12-03: dim 8, l2 0.2,
  lr 0.006: val 3.8880; the grid is in the spec). SVD++ on the
  Jester shape is capped at one epoch (ratings/s only).
- mf's 25M-shape spec trains with row-wise Adagrad since 2026-12-03 (lazy Adam before), chosen
  on val RMSE at the 1M shape within its 3 epochs (0.8018 vs 0.8048); its dim stays 32: dim
  8 was better on val at the 1M shape (0.7967) but worse at the 25M shape within the
  benchmark's bounded epochs (0.8498 vs 0.8378). Grids in the spec; the table of levers on
  the 25M / 1M ratio measures dim 8 and the lazy-Adam spec before beside it.
- neumf's 25M-shape spec trains its four tables with row-wise Adagrad and the MLP with lazy
  Adam since 2026-12-03 (lazy_adam's `tables` option), chosen as mf's optimizer was, on val
  RMSE at the 1M shape (0.8006 vs 0.8012). At the 25M shape within the benchmark's bounded
  epochs it costs accuracy: val 0.8138 vs 0.8083 for lazy Adam alone. The levers table
  measures lazy Adam alone beside it.
- Since 2026-12-03 the sparse optimizers write each updated row whole (gather, subtract,
  `ResourceScatterUpdate`) instead of `scatter_sub`: the same numbers; TensorFlow's CPU
  `scatter_sub` applied rows through a per-row Eigen expression that cost 2.7x more per row
  on tables beyond the cache.
- The NeuMF accuracy spec on the Jester shape is capped at 6 epochs; the 25M-shape cases at
  1,500 batches (6.1M ratings) per epoch, 3 epochs, ratings/s the median of epochs 2-3.
  Bounded epochs walk on through one shuffled order (as Keras' `steps_per_epoch` on a
  repeated dataset), so the 25M shape's whole-data shuffle (~1 s) is paid once per pass,
  as full epochs pay it, not once per 1,500 batches (runs before 2026-12-02 paid it per
  bounded epoch: ~9% of the 25M figure).
- Not tried: Keras on the JAX backend (not installed; the engine is TensorFlow graph code),
  a fused lookup-update kernel, and tf.profiler traces (the pieces are timed as separate
  graph loops instead). bfloat16 tables fail inside Keras' train_step (the metrics and loss
  mix bfloat16 and float32).
"""


def markdown(report: dict[str, Any]) -> str:
    lines = _cases(report) + _peers(report) + _scale(report) + _profile(report)
    lines += NOTES.splitlines()
    st = report["startup"]
    lines += [
        "",
        f"Start-up: `recexp --help` {st['help_seconds']:.2f} s; `recexp compare` over 200 "
        f"runs {st['compare_200_seconds']:.2f} s (medians of 5)",
    ]
    machine = report.get("machine", {})
    if machine:
        lines += [
            "",
            f"Machine: {machine.get('cpus')} CPUs ({machine.get('platform')}), "
            f"load average at the end {machine.get('load_average_at_end')}",
        ]
    return "\n".join(lines) + "\n"
