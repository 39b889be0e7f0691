"""The accuracy families (autorec, svdpp, glocal_k) on MovieLens 100K, beside Surprise SVD++.

    python -m benchmarks.accuracy_families [--only autorec,svdpp] [--split u1|random]
        [--set model.l2=30 ...] [--no-surprise] [--refit] [--json OUT]

Each family's tuned spec (``configs/movielens-100k/<family>_u1.yaml``) is loaded with
recexp's own spec parser and data pipeline (``recexp.data.prepare``: the predefined u1
fold, validation = a seeded 5% of u1.base; ``--split random`` = the random 90/10 split
with 5% of train for validation) and trained through the family's Recommender
(fit / predict), in this process, one family at a time. Test rows whose user or item is
not in train get the run's fallback (the biases baseline), as in `recexp train`. Prints val/test
RMSE and MAE in rating units, wall seconds and train ratings per second per family, and
Surprise's SVDpp (default parameters) fitted on the same train rows (train minus val).

Needs ``../shared/data/ml-100k`` (``RECEXP_DATA_DIR``); says so and exits 0 without it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "configs" / "movielens-100k"
SHARED_DATA = Path(os.environ.get("RECEXP_DATA_DIR", ROOT.parent / "shared" / "data"))
FAMILIES = ("autorec", "svdpp", "glocal_k")


def load_config(family: str, split: str, overrides: list[str]) -> Any:
    from recexp.config import load_spec

    extra = list(overrides)
    if split == "random":
        extra.append("dataset.split={strategy: random, val: 0.05, test: 0.1}")
    return load_spec(SPECS / f"{family}_u1.yaml", extra)


def train_data(config: Any, data: Any) -> Any:
    from recexp.experiment import train_data as run_train_data

    return run_train_data(config, data)


def scores(model: Any, data: Any, part: Any) -> dict[str, float]:
    """RMSE and MAE in rating units as a run scores them (unseen ids: the biases fallback)."""
    import numpy as np

    from recexp.evaluation import fallback_for, predict_part

    pred = predict_part(model.predict, data, part, fallback_for(data))
    err = pred - part.rating
    return {
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mae": float(np.mean(np.abs(err))),
        "unknown": int((~part.known).sum()),
    }


class Printer:
    def on_epoch(self, row: dict[str, float]) -> None:
        print(
            "  epoch {epoch:.0f}: loss {loss:.4f} rmse {rmse:.4f} val_rmse {val_rmse:.4f} "
            "({seconds:.1f}s)".format(**row),
            flush=True,
        )


def refit_data(config: Any, data: Any, best_epoch: int) -> tuple[Any, Any]:
    """Train + known val rows, no validation, a fixed epoch count (the one chosen on val)."""
    import numpy as np

    from recexp.training import TrainData

    base = train_data(config, data)
    model = config.model
    training = config.training.model_copy(update={"early_stopping": None})
    if model.family == "glocal_k":
        fine = max(best_epoch - model.pre_epochs, 1)
        model = model.model_copy(update={"fine_epochs": fine})
    else:
        training = training.model_copy(update={"max_epochs": best_epoch})
    empty_i, empty_f = np.empty(0, np.int32), np.empty(0, np.float32)
    merged = TrainData(
        user=np.concatenate([base.user, base.val_user]),
        item=np.concatenate([base.item, base.val_item]),
        rating=np.concatenate([base.rating, base.val_rating]),
        val_user=empty_i,
        val_item=empty_i,
        val_rating=empty_f,
        n_users=base.n_users,
        n_items=base.n_items,
        options=training,
        optimizer=base.optimizer,
        seed=base.seed,
        title=base.title,
    )
    return merged, model


def run_family(
    family: str, split: str, overrides: list[str], verbose: bool, refit: bool = False
) -> dict[str, Any]:
    from recexp.data.pipeline import prepare
    from recexp.models.build import build_context, build_recommender, make_recommender

    config = load_config(family, split, overrides)
    data = prepare(config.dataset, config.seed)
    ctx = build_context(config, data)
    model = build_recommender(config, data)
    t0 = time.perf_counter()
    result = model.fit(train_data(config, data), [Printer()] if verbose else [])
    wall = time.perf_counter() - t0
    val, test = scores(model, data, data.val), scores(model, data, data.test)
    name = config.name
    if refit and result.best_epoch:
        merged, options = refit_data(config, data, result.best_epoch)
        model = make_recommender(options, ctx, merged.options, config.optimizer, len(merged))
        t1 = time.perf_counter()
        result = model.fit(merged, [Printer()] if verbose else [])
        wall += time.perf_counter() - t1
        test = scores(model, data, data.test)
        name += " (refit on train+val)"
    return {
        "name": name,
        "split": split,
        "model": config.model.model_dump(),
        "best_epoch": result.best_epoch,
        "epochs": len(result.history),
        "val_rmse": val["rmse"],
        "val_mae": val["mae"],
        "test_rmse": test["rmse"],
        "test_mae": test["mae"],
        "test_unknown": test["unknown"],
        "seconds": wall,
        "train_seconds": result.train_seconds,
        "ratings_per_second": result.ratings_per_second,
        "train_rows": len(data.train),
    }


def run_surprise(split: str) -> dict[str, Any]:
    """Surprise SVDpp (its defaults: 20 factors, 20 epochs, lr 0.007, reg 0.02) on the same rows."""
    import numpy as np
    import pandas as pd
    from surprise import Dataset as SDataset
    from surprise import Reader, SVDpp

    from recexp.data.pipeline import prepare

    config = load_config("svdpp", split, [])
    data = prepare(config.dataset, config.seed)
    frame = data.ratings.frame
    train = frame.iloc[data.train.rows]
    reader = Reader(rating_scale=(data.scale.min, data.scale.max))
    trainset = SDataset.load_from_df(
        pd.DataFrame({"u": train["user"], "i": train["item"], "r": train["rating"]}), reader
    ).build_full_trainset()
    algo = SVDpp(random_state=config.seed)
    t0 = time.perf_counter()
    algo.fit(trainset)
    wall = time.perf_counter() - t0
    out: dict[str, Any] = {"name": "surprise-svdpp", "split": split, "seconds": wall}
    for name, part in (("val", data.val), ("test", data.test)):
        sub = frame.iloc[part.rows]
        pred = np.array(
            [algo.predict(u, i).est for u, i in zip(sub["user"], sub["item"], strict=True)]
        )
        err = pred - sub["rating"].to_numpy()
        out[f"{name}_rmse"] = float(np.sqrt(np.mean(err**2)))
        out[f"{name}_mae"] = float(np.mean(np.abs(err)))
    out["ratings_per_second"] = len(train) * 20 / wall
    return out


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| run | split | best epoch | val RMSE | val MAE | test RMSE | test MAE "
        "| wall s | ratings/s |"
    )
    lines = [head, "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['split']} | {r.get('best_epoch', '-')} | {r['val_rmse']:.4f} | "
            f"{r['val_mae']:.4f} | {r['test_rmse']:.4f} | {r['test_mae']:.4f} | "
            f"{r['seconds']:.1f} | {r['ratings_per_second']:,.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default=",".join(FAMILIES))
    parser.add_argument("--split", choices=["u1", "random"], default="u1")
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    parser.add_argument("--no-surprise", action="store_true")
    parser.add_argument(
        "--refit",
        action="store_true",
        help="after selecting the epoch on val, train again on train+val for that many epochs",
    )
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if not (SHARED_DATA / "ml-100k" / "u1.base").is_file():
        print(f"MovieLens 100K not found in {SHARED_DATA}/ml-100k: nothing to do")
        return 0
    os.environ.setdefault("RECEXP_DATA_DIR", str(SHARED_DATA))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    rows = []
    for family in [f for f in args.only.split(",") if f]:
        print(f"== {family} ({args.split})", flush=True)
        rows.append(run_family(family, args.split, args.overrides, not args.quiet, args.refit))
        print(table(rows[-1:]), flush=True)
    if not args.no_surprise:
        try:
            rows.append(run_surprise(args.split))
        except ImportError as err:
            print(f"surprise not installed ({err}): pip install scikit-surprise")
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
