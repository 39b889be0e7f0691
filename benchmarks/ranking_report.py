"""``benchmarks/results/ranking.md`` from the rows ``benchmarks/ranking.py`` measured."""

from __future__ import annotations

from typing import Any


def _f(value: Any, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _params(row: dict[str, Any]) -> str:
    params = row.get("params")
    if not params:
        return "shipped spec" if row["source"].startswith("configs/") else "-"
    text = ", ".join(
        f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()
    )
    points = row.get("grid_points")
    return f"{text} (best of {points})" if points else text


def markdown(report: dict[str, Any]) -> str:
    rows = report["rows"]
    best_peer = max(
        (r["test"]["ndcg@10"] for r in rows if r["name"].startswith("implicit")), default=None
    )
    lines = [
        "# Top-N on MovieLens 100K",
        "",
        f"`{report['command']}` on {report['machine']['cpus']} CPU cores, "
        f"{report['finished_utc']}, total wall time {report['wall_seconds']:.0f} s.",
        "",
        "Split: seeded random (seed 42): 10% of the ratings test, 5% validation, 85% train. "
        "Full ranking: every item seen in training that the user did not rate in train (nor, "
        "for test, in validation) is a candidate; the user's held-out items are relevant; "
        f"{rows[0].get('test_users', '?')} test users. Rating specs are the shipped ones "
        "(tuned for RMSE); top-N families and peers were tuned on the validation NDCG@10 "
        "(grids in `benchmarks/ranking.py`, `benchmarks/ranking_peers.py`); test untouched.",
        "",
        "| row | what | chosen on val | val NDCG@10 | test NDCG@10 | test Recall@20 "
        "| test MRR | coverage@10 | pop@10 | test RMSE | fit s | eval users/s |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        t = r["test"]
        lines.append(
            f"| {r['name']} | {r['source']} | {_params(r)} | {_f(r['val'].get('ndcg@10'))} "
            f"| **{_f(t.get('ndcg@10'))}** | {_f(t.get('recall@20'))} | {_f(t.get('mrr'))} "
            f"| {_f(t.get('coverage@10'), 3)} | {_f(t.get('popularity@10'), 1)} "
            f"| {_f(r.get('test_rmse'))} | {_f(r.get('fit_s'), 2)} "
            f"| {_f(r.get('eval_users_per_second'), 0)} |"
        )
    ease = next((r for r in rows if r["name"] == "ease"), None)
    if ease is not None and best_peer:
        gap = ease["test"]["ndcg@10"] / best_peer - 1
        lines += ["", f"recexp's `ease` vs the best `implicit` peer on test NDCG@10: {gap:+.1%}."]
    neural = [r for r in rows if r["name"].endswith("_topn")]
    als = next((r for r in rows if r["name"] == "implicit_als"), None)
    if neural and als is not None and ease is not None:
        top = max(neural, key=lambda r: r["test"]["ndcg@10"])
        n, a, e = (x["test"]["ndcg@10"] for x in (top, als, ease))
        lines += [
            f"Best implicit-trained neural spec: `{top['name']}` test NDCG@10 {n:.4f}, "
            f"{n / a - 1:+.1%} vs implicit's ALS ({a:.4f}), {n / e - 1:+.1%} vs ease ({e:.4f})."
        ]
    lines += [
        "",
        "pop@10: mean number of training ratings of the recommended items (most popular "
        "lists recommend the most-rated items). fit s: recexp's train_seconds (one grid "
        "point's fit for the tuned rows); eval users/s: the test evaluation's throughput.",
        "",
    ]
    return "\n".join(lines)
