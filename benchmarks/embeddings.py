"""Benchmark: embedding strategies (full, quotient-remainder, mixed-dim, hashing) on MF and NeuMF.

    python -m benchmarks.embeddings                 # from the repo root; ~17 min on 2 cores
    python -m benchmarks.embeddings --only qr md    # settings whose key contains qr or md
    python -m benchmarks.embeddings --datasets ml100k --families mf --no-write

Issue "[embeddings]": *quotient-remainder and mixed-dim together reach at least 5x fewer
embedding parameters than full tables at no more than 1% higher test RMSE on MovieLens
100K* (seed 002 paid 9% higher MAE for 5.3x on MovieLens 1M).

Each case trains one base spec from ``configs/embeddings/`` in-process through
:func:`recexp.experiment.run_experiment`; the benchmark replaces only the spec's
``embedding`` block, so every strategy of a (dataset, family) pair trains with the same
model, optimizer, batch size, split and early stopping. Cases:

* MovieLens 100K (random 90/10 test split, validation = 10% of the rest, early stopping
  on validation RMSE), ``mf`` and ``neumf``. Read from ``$RECEXP_DATA_DIR``, which this
  script sets to ``../shared/data`` beside the repo when it is not set; skipped with a
  message when the files are absent (nothing is downloaded).
* Synthetic, 100,000 users x 20,000 items x 1M ratings (Zipf-like popularity, about 8
  training ratings per user), same split and training: a subset of the settings, for
  time (see ``LIMITED``): ``mf`` with full, QR, both mixed-dim rules, hashing and QR +
  MD; ``neumf`` with full and QR + MD.
* Repeats: on MovieLens 100K, full, md-narrow and every QR + MD setting run again with
  seeds 1, 2 and 3 (``--repeat-seeds``; each seed a new split and new weights), and a
  second table gives the change against the same seed's full run, its mean and its worst.

QR + MD comes two ways: one table each (seed 002's pairing: QR users, MD items, and the
reverse), or both in one table (``md-qr-tail``: mixed-dim whose rare block is stored with
the quotient-remainder trick, ``qr_compression``).

Numbers reported per run, all read back from the run directory: embedding parameters
(every embedding table of the model, including MF's per-id bias tables, which every
strategy keeps full: the conservative count), the compression ratio against the same
pair's ``full`` run, the compression of the strategy tables alone (biases left out),
test RMSE and MAE, the change in test RMSE against ``full`` (%), epochs, training
seconds and throughput, and two floors (a closed-form bias model and the global mean).
A verdict line per MovieLens 100K run says whether it meets the target (>= 5x and
<= +1% RMSE); only settings that combine quotient-remainder and mixed-dim
count for the issue, the others are listed for reference. The repeats table says whether
a setting stays within the target on every seed.

Writes ``benchmarks/results/embeddings.json`` and ``embeddings.md``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs" / "embeddings"
RESULTS = ROOT / "benchmarks" / "results"
SHARED_DATA = ROOT.parent / "shared" / "data"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("RECEXP_DATA_DIR", str(SHARED_DATA))
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_COMPRESSION = 5.0  # at least this many times fewer embedding parameters than full
TARGET_RMSE_INCREASE = 1.0  # and at most this much higher test RMSE, in percent


# --- what is compared -------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    key: str
    label: str
    # explicit mixed-dim blocks for this dataset's vocabularies: name -> (user blocks, item
    # blocks), each the sizes of all blocks but the last, most rated ids first
    blocks: dict[str, tuple[list[int], list[int]]]


DATASETS = {
    "ml100k": Dataset(
        "ml100k",
        "MovieLens 100K",
        # 943 users, ~1,650 items rated in train
        blocks={
            "wide": ([100, 300], [150, 500]),
            "narrow": ([50, 200], [100, 300]),
            "head": ([100], [150]),
        },
    ),
    "synthetic": Dataset(
        "synthetic",
        "synthetic 100k x 20k",
        blocks={
            "wide": ([10_000, 30_000], [1_000, 4_000]),
            "narrow": ([5_000, 20_000], [500, 2_000]),
            "head": ([10_000], [1_000]),
        },
    ),
}

# (dataset, family) -> base spec; settings run on a pair unless the pair limits them
CASES = {
    ("ml100k", "mf"): "mf_ml100k.yaml",
    ("ml100k", "neumf"): "neumf_ml100k.yaml",
    ("synthetic", "mf"): "mf_synthetic.yaml",
    ("synthetic", "neumf"): "neumf_synthetic.yaml",
}
# The synthetic pairs run a subset (time): one setting of each strategy and the QR + MD one
LIMITED = {
    ("synthetic", "mf"): (
        "full",
        "qr-sqrt",
        "md-alpha",
        "md-blocks",
        "hash-2",
        "qr+md-blocks",
        "md-qr-tail",
    ),
    ("synthetic", "neumf"): ("full", "qr+md-blocks", "md-qr-tail"),
}
# MovieLens 100K settings that are also rerun with other seeds (new split and new
# initialization each), to show how much of a +-1% difference is the seed's
REPEATED = ("full", "md-narrow")  # and every QR + MD setting
DEFAULT_REPEAT_SEEDS = (1, 2, 3)


def qr_sqrt() -> dict[str, Any]:
    """ceil(sqrt(vocab)) buckets, keras-io sizing: 2 x sqrt(vocab) rows."""
    return {"strategy": "quotient_remainder"}


def qr_c4(order: str = "id") -> dict[str, Any]:
    """vocab // 4 buckets, compact sizing: about vocab / 4 + 4 rows, every id its own pair."""
    block = {"strategy": "quotient_remainder", "compression": 4, "sizing": "compact"}
    return block if order == "id" else {**block, "order": order}


def md_alpha(alpha: float = 0.5, num_blocks: int = 3) -> dict[str, Any]:
    """Alpha-power rule: equal-rating-mass blocks, widths dim * (n_0 / n_k) ** alpha."""
    return {"strategy": "mixed_dim", "alpha": alpha, "num_blocks": num_blocks}


def md_blocks(which: str, table: int, dims: list[int]) -> Any:
    """Explicit blocks ``DATASETS[...].blocks[which][table]`` with widths ``dims``."""
    return lambda d: {"strategy": "mixed_dim", "blocks": d.blocks[which][table], "dims": dims}


def md_qr_tail(table: int) -> Any:
    """Mixed-dim: the most rated ids full 32-wide rows; the rest 8 wide, stored with QR c=4."""
    return lambda d: {
        "strategy": "mixed_dim",
        "blocks": d.blocks["head"][table],
        "dims": [32, 8],
        "qr_compression": [1, 4],
        "sizing": "compact",
    }


def hashing(fraction: int = 2) -> dict[str, Any]:
    """``num_bins = vocab / fraction`` is filled in per dataset (default: half)."""
    return {"strategy": "hashing", "_fraction": fraction}


@dataclass(frozen=True)
class Setting:
    key: str
    note: str
    user: Any  # a strategy block, or fn(dataset) -> block
    item: Any

    def blocks(self, dataset: Dataset) -> tuple[dict[str, Any], dict[str, Any]]:
        return (
            self.user(dataset) if callable(self.user) else dict(self.user),
            self.item(dataset) if callable(self.item) else dict(self.item),
        )

    @property
    def qr_md(self) -> bool:
        """Whether the setting uses quotient-remainder with mixed-dim (the issue's target):
        one table each, or mixed-dim blocks stored with the quotient-remainder trick."""
        user, item = self.blocks(DATASETS["ml100k"])
        if any(max(b.get("qr_compression") or [1]) > 1 for b in (user, item)):
            return True
        return {user["strategy"], item["strategy"]} == {"quotient_remainder", "mixed_dim"}


FULL = {"strategy": "full"}
SETTINGS = [
    Setting("full", "reference: one row per id", FULL, FULL),
    # one strategy for both tables
    Setting("qr-sqrt", "QR, ceil(sqrt(vocab)) buckets (keras-io sizing)", qr_sqrt(), qr_sqrt()),
    Setting("qr-c4", "QR, vocab // 4 buckets (compact sizing)", qr_c4(), qr_c4()),
    Setting(
        "qr-c4-freq",
        "QR, vocab // 4 buckets, ids split by training-frequency rank",
        qr_c4("frequency"),
        qr_c4("frequency"),
    ),
    Setting("md-alpha", "mixed-dim, alpha rule 0.5, 3 blocks", md_alpha(), md_alpha()),
    Setting(
        "md-blocks",
        "mixed-dim, explicit blocks, widths 32/8/2",
        md_blocks("wide", 0, [32, 8, 2]),
        md_blocks("wide", 1, [32, 8, 2]),
    ),
    Setting(
        "md-narrow",
        "mixed-dim, smaller explicit blocks, widths 32/4/1",
        md_blocks("narrow", 0, [32, 4, 1]),
        md_blocks("narrow", 1, [32, 4, 1]),
    ),
    Setting("hash-2", "hashing into vocab / 2 bins", hashing(2), hashing(2)),
    Setting("hash-5", "hashing into vocab / 5 bins", hashing(5), hashing(5)),
    # the target: quotient-remainder and mixed-dim together
    Setting(
        "qr+md-blocks",
        "users QR sqrt, items mixed-dim explicit blocks (seed 002's pairing)",
        qr_sqrt(),
        md_blocks("wide", 1, [32, 8, 2]),
    ),
    Setting(
        "qr+md-alpha",
        "users QR sqrt, items mixed-dim alpha rule 1.0, 3 blocks",
        qr_sqrt(),
        md_alpha(1.0, 3),
    ),
    Setting(
        "md+qr",
        "users mixed-dim explicit blocks, items QR sqrt",
        md_blocks("wide", 0, [32, 8, 2]),
        qr_sqrt(),
    ),
    Setting(
        "qr-c4+md-narrow",
        "users QR vocab // 4 buckets by frequency rank, items mixed-dim 32/4/1",
        qr_c4("frequency"),
        md_blocks("narrow", 1, [32, 4, 1]),
    ),
    # QR and MD in one table: popular ids keep full rows, the rest share QR-composed rows
    Setting(
        "md-qr-tail",
        "both tables mixed-dim: most rated ids 32 wide, the rest 8 wide stored with QR c=4",
        md_qr_tail(0),
        md_qr_tail(1),
    ),
]


# --- running ------------------------------------------------------------------------------


def ml100k_present() -> bool:
    folder = Path(os.environ["RECEXP_DATA_DIR"])
    return (folder / "ml-100k" / "u.data").is_file() or (folder / "ml-100k.zip").is_file()


def resolve_block(block: dict[str, Any], vocab: int) -> dict[str, Any]:
    """Fill in what depends on the vocabulary (hashing bins)."""
    block = dict(block)
    fraction = block.pop("_fraction", None)
    if fraction is not None:
        block["num_bins"] = -(-vocab // fraction)
    return block


def vocabularies(config: Any) -> tuple[int, int]:
    """User and item vocabulary of the encoded training data (cheap to recompute)."""
    from recexp.data import prepare

    data = prepare(config.dataset, config.seed)
    return data.n_users, data.n_items


def label(block: dict[str, Any]) -> str:
    strategy = block["strategy"]
    if strategy == "full":
        return "full"
    if strategy == "quotient_remainder":
        order = " by freq" if block.get("order") == "frequency" else ""
        if "compression" in block:
            return f"qr c={block['compression']:g} {block.get('sizing', 'keras_io')}{order}"
        return "qr " + (f"{block['num_buckets']} buckets" if "num_buckets" in block else "sqrt")
    if strategy == "mixed_dim":
        if "blocks" in block:
            sizes, dims = "/".join(map(str, block["blocks"])), "/".join(map(str, block["dims"]))
            qr = block.get("qr_compression")
            qr_note = f", qr c={'/'.join(f'{c:g}' for c in qr)}" if qr else ""
            return f"md {sizes}/rest x {dims}{qr_note}"
        return f"md alpha={block['alpha']:g} k={block['num_blocks']}"
    if strategy == "hashing":
        return f"hash {block['num_bins']} bins"
    return strategy


def run_case(
    base: Path,
    setting: Setting,
    dataset: Dataset,
    runs_root: Path,
    vocab: tuple[int, int],
    seed: int | None = None,
) -> dict[str, Any]:
    import keras

    from recexp.config import load_spec, validate
    from recexp.experiment import run_experiment

    user, item = setting.blocks(dataset)
    user, item = resolve_block(user, vocab[0]), resolve_block(item, vocab[1])
    raw = load_spec(base).resolved()
    raw["embedding"] = {"user": user, "item": item}
    raw["name"] = f"{raw['name']}-{setting.key.replace('+', '_')}"
    if seed is not None:
        raw["seed"] = seed
    config = validate(raw)

    keras.backend.clear_session()
    gc.collect()
    t0 = time.perf_counter()
    run = run_experiment(config, runs_root, quiet=True)
    wall = time.perf_counter() - t0
    metrics = json.loads((run.path / "metrics.json").read_text())
    summary = json.loads((run.path / "summary.json").read_text())
    tables = [t for t in summary["embeddings"] if not t["name"].endswith("_bias")]
    table_params = sum(t["parameters"] for t in tables)
    table_full = sum(t["vocabulary"] * t["dim"] for t in tables)
    return {
        "dataset": dataset.label,
        "dataset_key": dataset.key,
        "family": config.model.family,
        "setting": setting.key,
        "seed": config.seed,
        "note": setting.note,
        "qr_md": setting.qr_md,
        "user": label(user),
        "item": label(item),
        "user_spec": user,
        "item_spec": item,
        "n_users": metrics["n_users"],
        "n_items": metrics["n_items"],
        "params": metrics["params"],
        "embedding_params": metrics["embedding_params"],
        "embedding_bytes": metrics["embedding_bytes"],
        "strategy_table_params": table_params,
        "strategy_table_compression": round(table_full / table_params, 3),
        "tables": [
            {k: t.get(k) for k in ("name", "strategy", "rows", "dim", "parameters", "compression")}
            for t in summary["embeddings"]
        ],
        "test_rmse": metrics["test"]["rmse"],
        "test_mae": metrics["test"]["mae"],
        "val_rmse": metrics["val"]["rmse"],
        "best_epoch": metrics["best_epoch"],
        "epochs_run": metrics["epochs_run"],
        "biases_test_rmse": metrics["baselines"]["biases_test_rmse"],
        "global_mean_test_rmse": metrics["baselines"]["global_mean_test_rmse"],
        "train_seconds": metrics["train_seconds"],
        "wall_seconds": round(wall, 2),
        "ratings_per_second": metrics["ratings_per_second"],
    }


def add_relative(rows: list[dict[str, Any]]) -> None:
    """Compression and RMSE change of each run against the full run of its pair."""
    for row in rows:
        ref = next(
            (
                r
                for r in rows
                if r["setting"] == "full"
                and r["dataset_key"] == row["dataset_key"]
                and r["family"] == row["family"]
                and r["seed"] == row["seed"]
            ),
            None,
        )
        if ref is None:
            row["compression"] = row["delta_rmse_pct"] = row["delta_mae_pct"] = None
            continue
        row["compression"] = round(ref["embedding_params"] / row["embedding_params"], 3)
        row["delta_rmse_pct"] = round(100 * (row["test_rmse"] / ref["test_rmse"] - 1), 3)
        row["delta_mae_pct"] = round(100 * (row["test_mae"] / ref["test_mae"] - 1), 3)
        row["meets_target"] = (
            row["compression"] >= TARGET_COMPRESSION
            and row["delta_rmse_pct"] <= TARGET_RMSE_INCREASE
        )


def verdict(row: dict[str, Any]) -> str:
    c, d = row["compression"], row["delta_rmse_pct"]
    misses = []
    if c < TARGET_COMPRESSION:
        misses.append(f"compression {c:.3f}x < {TARGET_COMPRESSION:g}x")
    if d > TARGET_RMSE_INCREASE:
        misses.append(f"test RMSE {d:+.2f}% > +{TARGET_RMSE_INCREASE:g}%")
    head = f"{row['family']} {row['setting']} (users {row['user']}, items {row['item']})"
    head += f": {c:.3f}x, {d:+.2f}% RMSE"
    return f"{head}: " + (
        "**meets the target**" if not misses else "misses (" + "; ".join(misses) + ")"
    )


# --- reporting ----------------------------------------------------------------------------


def repeats_section(all_rows: list[dict[str, Any]]) -> list[str]:
    """MovieLens 100K settings run with several seeds: d RMSE per seed, mean and worst."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in all_rows:
        if r["dataset_key"] == "ml100k" and r["setting"] != "full":
            groups.setdefault((r["family"], r["setting"]), []).append(r)
    groups = {k: v for k, v in groups.items() if len(v) > 1}
    if not groups:
        return []
    seeds = list(dict.fromkeys(r["seed"] for rs in groups.values() for r in rs))
    out = [
        "## Repeats on MovieLens 100K: the same settings with other seeds",
        "",
        "Each seed draws a new random split and new initial weights; *d RMSE* is against "
        "the full-table run of the same seed. A setting meets the target robustly when it "
        f"stays within +{TARGET_RMSE_INCREASE:g}% on every seed.",
        "",
        "| family | setting | x vs full | "
        + " | ".join(f"d RMSE seed {s}" for s in seeds)
        + " | mean | worst | verdict |",
        "|" + "---|" * (6 + len(seeds)),
    ]
    for (family, setting), rs in groups.items():
        by_seed = {r["seed"]: r["delta_rmse_pct"] for r in rs}
        deltas = list(by_seed.values())
        mean, worst = sum(deltas) / len(deltas), max(deltas)
        compression = min(r["compression"] for r in rs)
        if compression < TARGET_COMPRESSION:
            verdict_text = f"misses ({compression:.2f}x < {TARGET_COMPRESSION:g}x)"
        elif worst <= TARGET_RMSE_INCREASE:
            verdict_text = "**meets on every seed**"
        elif mean <= TARGET_RMSE_INCREASE:
            verdict_text = "meets on the mean, not on every seed"
        else:
            verdict_text = "misses"
        cells = " | ".join(
            f"{by_seed[s]:+.2f}%" if s in by_seed and by_seed[s] is not None else "-" for s in seeds
        )
        out.append(
            f"| {family} | {setting} | {compression:.2f}x | {cells} | {mean:+.2f}% | "
            f"{worst:+.2f}% | {verdict_text} |"
        )
    full = [r for r in all_rows if r["dataset_key"] == "ml100k" and r["setting"] == "full"]
    out += [
        "",
        "Full-table test RMSE per seed (the reference): "
        + "; ".join(
            f"{family} " + ", ".join(f"{r['test_rmse']:.4f}" for r in full if r["family"] == family)
            for family in dict.fromkeys(r["family"] for r in full)
        )
        + ".",
        "",
    ]
    return out


def markdown(all_rows: list[dict[str, Any]], meta: dict[str, Any], skipped: list[str]) -> str:
    rows = [r for r in all_rows if not r.get("repeat")]
    out = [
        "# Embedding strategies: parameters vs test RMSE",
        "",
        f"Written by `{meta['command']}` on {meta['date']} "
        f"({meta['cpu_count']} CPU cores, {meta['gpus']} GPUs, TensorFlow {meta['tensorflow']}, "
        f"Keras {meta['keras']}; {meta['total_s']:.0f} s in all). Every number below is "
        "measured by the script; nothing is typed in.",
        "",
        'Target (issue "[embeddings]"): quotient-remainder and mixed-dim together reach '
        f"at least {TARGET_COMPRESSION:g}x fewer embedding parameters than full tables at no "
        f"more than {TARGET_RMSE_INCREASE:g}% higher test RMSE on MovieLens 100K "
        "(seed 002: 5.3x fewer for 9% higher MAE on MovieLens 1M).",
        "",
        "Same training settings for every strategy of a (dataset, family): base specs in "
        "`configs/embeddings/`, only the `embedding` block changes. *emb params* counts every "
        "embedding table, including MF's per-id bias tables (always full): *x vs full* is the "
        "full run's count over this run's; *x tables* leaves the bias tables out. "
        "*d RMSE* is the change in test RMSE against the full run. *s* = training seconds "
        "(all epochs, including the ones after the best; the machine may be shared, so "
        "compare timings only within one run of this script).",
        "",
    ]
    for note in skipped:
        out += [f"> skipped: {note}", ""]
    columns = (
        "dataset | family | setting | users | items | emb params | x vs full | x tables | "
        "test RMSE | d RMSE | test MAE | epochs | s | k ratings/s"
    )
    out += ["| " + columns + " |", "|" + "---|" * (columns.count("|") + 1)]
    for r in rows:
        comp = "-" if r["compression"] is None else f"{r['compression']:.2f}x"
        delta = "-" if r["delta_rmse_pct"] is None else f"{r['delta_rmse_pct']:+.2f}%"
        out.append(
            f"| {r['dataset']} | {r['family']} | {r['setting']} | {r['user']} | {r['item']} | "
            f"{r['embedding_params']:,} | {comp} | {r['strategy_table_compression']:.2f}x | "
            f"{r['test_rmse']:.4f} | {delta} | {r['test_mae']:.4f} | "
            f"{r['best_epoch']}/{r['epochs_run']} | {r['train_seconds']:.1f} | "
            f"{r['ratings_per_second'] / 1000:.0f} |"
        )
    out += [
        "",
        "*epochs* = best epoch / epochs run (early stopping on validation RMSE, best weights "
        "restored). *k ratings/s*: training throughput of a steady epoch.",
        "",
        "Floors, from the same runs' test sets: a per-user and per-item bias model fitted in "
        "closed form (no factors), and the global mean. A strategy whose RMSE sits at the bias "
        "floor has lost what the factor tables add.",
        "",
    ]
    seen = set()
    for r in rows:
        pair = (r["dataset"], r["family"])
        if pair in seen:
            continue
        seen.add(pair)
        full = next(
            (x for x in rows if (x["dataset"], x["family"]) == pair and x["setting"] == "full"),
            None,
        )
        out.append(
            f"- {r['dataset']}, {r['family']}: full tables {full['test_rmse']:.4f}, "
            if full
            else f"- {r['dataset']}, {r['family']}: "
        )
        out[-1] += (
            f"biases only {r['biases_test_rmse']:.4f}, global mean {r['global_mean_test_rmse']:.4f}"
        )
    out.append("")

    ml = [r for r in rows if r["dataset_key"] == "ml100k" and r["setting"] != "full"]
    out += ["## Verdict on MovieLens 100K", ""]
    if not ml:
        out += ["MovieLens 100K was not run, so there is no verdict.", ""]
        return "\n".join(out)
    out += ["Settings that combine quotient-remainder and mixed-dim (the issue's target):", ""]
    out += [f"- {verdict(r)}" for r in ml if r["qr_md"]] or ["- (none run)"]
    out += ["", "Other settings, for reference:", ""]
    out += [f"- {verdict(r)}" for r in ml if not r["qr_md"]] or ["- (none run)"]
    hits = [f"{r['family']} {r['setting']}" for r in ml if r["qr_md"] and r["meets_target"]]
    misses = [f"{r['family']} {r['setting']}" for r in ml if r["qr_md"] and not r["meets_target"]]
    others = [f"{r['family']} {r['setting']}" for r in ml if not r["qr_md"] and r["meets_target"]]
    out += [
        "",
        "**Summary.** QR + MD settings that meet the target: "
        + (", ".join(hits) if hits else "none")
        + ". QR + MD settings that miss it: "
        + (", ".join(misses) if misses else "none")
        + ". Other settings that would meet it: "
        + (", ".join(others) if others else "none")
        + ".",
        "",
    ]
    out += repeats_section(all_rows)
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--families", nargs="+", default=["mf", "neumf"], choices=["mf", "neumf"])
    parser.add_argument(
        "--only", nargs="+", default=None, help="settings whose key contains any of these"
    )
    parser.add_argument(
        "--repeat-seeds",
        nargs="*",
        type=int,
        default=list(DEFAULT_REPEAT_SEEDS),
        help="MovieLens 100K: rerun full, md-narrow and the QR + MD settings with these seeds",
    )
    parser.add_argument("--no-write", action="store_true", help="print only; keep results/")
    parser.add_argument("--keep-runs", default=None, help="keep the run directories here")
    args = parser.parse_args(argv)

    import keras
    import tensorflow as tf

    from recexp.config import load_spec

    start = time.perf_counter()
    skipped: list[str] = []
    rows: list[dict[str, Any]] = []
    tmp = None
    if args.keep_runs:
        runs_root = Path(args.keep_runs)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="recexp-embeddings-")
        runs_root = Path(tmp.name)
    try:
        for dkey in args.datasets:
            dataset = DATASETS[dkey]
            if dkey == "ml100k" and not ml100k_present():
                note = (
                    f"MovieLens 100K cases: no ml-100k/u.data or ml-100k.zip in "
                    f"{os.environ['RECEXP_DATA_DIR']} (set RECEXP_DATA_DIR)"
                )
                print(f"skipping {note}", flush=True)
                skipped.append(note)
                continue
            for family in args.families:
                base = CONFIGS / CASES[(dkey, family)]
                vocab = vocabularies(load_spec(base))
                allowed = LIMITED.get((dkey, family))
                for setting in SETTINGS:
                    if allowed and setting.key not in allowed:
                        continue
                    if (
                        args.only
                        and setting.key != "full"
                        and not any(s in setting.key for s in args.only)
                    ):
                        continue
                    repeat = dkey == "ml100k" and (setting.key in REPEATED or setting.qr_md)
                    for seed in [None, *(args.repeat_seeds if repeat else [])]:
                        row = run_case(base, setting, dataset, runs_root, vocab, seed)
                        row["repeat"] = seed is not None
                        rows.append(row)
                        print(
                            f"{dataset.label:>20} {family:>5} {setting.key:>15} "
                            f"seed {row['seed']:>2}: emb {row['embedding_params']:>9,}  "
                            f"test RMSE {row['test_rmse']:.4f}  "
                            f"epochs {row['best_epoch']}/{row['epochs_run']}  "
                            f"{row['train_seconds']:.1f}s train, {row['wall_seconds']:.1f}s wall",
                            flush=True,
                        )
    finally:
        if tmp is not None:
            tmp.cleanup()
    add_relative(rows)
    total = time.perf_counter() - start
    meta = {
        "command": "python -m benchmarks.embeddings"
        + (" " + " ".join(argv or sys.argv[1:])).rstrip(),
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "gpus": len(tf.config.list_physical_devices("GPU")),
        "data_dir": os.environ["RECEXP_DATA_DIR"],
        "target": {
            "min_compression": TARGET_COMPRESSION,
            "max_rmse_increase_pct": TARGET_RMSE_INCREASE,
        },
        "total_s": round(total, 1),
        "skipped": skipped,
    }
    text = markdown(rows, meta, skipped)
    print()
    print(text)
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "embeddings.json").write_text(
            json.dumps({"meta": meta, "runs": rows}, indent=2) + "\n"
        )
        (RESULTS / "embeddings.md").write_text(text)
        print(f"wrote {RESULTS / 'embeddings.md'} and embeddings.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
