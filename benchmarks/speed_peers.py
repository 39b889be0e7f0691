"""Surprise (SVD, SVD++) as a peer of recexp's MF on the same split, and recexp's test curve.

Surprise fits on the training part of recexp's own split (the int codes as raw ids, so both
see the same pairs) and predicts the same test rows; ids without a training rating get
Surprise's own fallback (the biases it knows). Its per-epoch ratings/s is
``n_epochs * n_train / fit seconds`` (the median of 5 fits when one takes under 10 s); it
has no per-epoch curve, so its *best* test RMSE is the one its tuned settings (below,
chosen on recexp's validation part with ``--tune``) reach at the end of the fit.

recexp's curve: the spec trains through ``Recommender.fit`` with a history.csv writer and
a listener that scores the test part after every epoch (its time is not in the epoch's
``seconds``), so history.csv holds ``test_rmse`` per epoch; time to reach a target is the
sum of the epoch ``seconds`` (training plus validation) up to the first epoch at or below it.
"""

from __future__ import annotations

import csv
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

#: Surprise's settings per case, tuned on recexp's validation part (benchmarks/results/speed.md
#: says how); SVD++'s ``n_epochs: 1`` on the Jester shape bounds a fit that takes too long here.
#: SVD on the Jester shape (``--tune``, 20 epochs, val RMSE; 2026-12-02): n_factors {20, 100} x
#: lr {0.005, 0.01} x reg {0.05, 0.1}: best 20 / 0.005 / 0.1 (4.2834; the settings before,
#: 100 / 0.005 / 0.05: 4.3331); then lr {0.002, 0.005} x reg {0.2, 0.4}: 0.002 / 0.2 4.0446,
#: 0.002 / 0.4 4.3700, 0.005 / 0.2 4.4604; then lr 0.001 x reg {0.1, 0.2, 0.3}: 3.8967, 4.0291,
#: 4.3744; lr 0.0005 x reg {0.05, 0.1}: 3.8986, 4.0372 -> 20 / 0.001 / 0.1.
SURPRISE_SETTINGS: dict[str, dict[str, dict[str, Any]]] = {
    "ml100k": {
        "SVD": {"n_factors": 100, "n_epochs": 30, "lr_all": 0.01, "reg_all": 0.1},
        "SVDpp": {"n_factors": 20, "n_epochs": 20, "lr_all": 0.007, "reg_all": 0.05},
    },
    "jester-shape": {
        "SVD": {"n_factors": 20, "n_epochs": 20, "lr_all": 0.001, "reg_all": 0.1},
        "SVDpp": {"n_factors": 20, "n_epochs": 1, "lr_all": 0.007, "reg_all": 0.05},
    },
}


def surprise_trainset(data: Any) -> Any:
    import pandas as pd
    from surprise import Dataset, Reader

    t = data.train
    frame = pd.DataFrame({"u": t.user, "i": t.item, "r": t.rating})
    low, high = float(data.scale.min), float(data.scale.max)
    return Dataset.load_from_df(frame, Reader(rating_scale=(low, high))).build_full_trainset()


def _inner(mapping: dict[Any, int], codes: np.ndarray) -> np.ndarray:
    lookup = np.full(int(codes.max(initial=0)) + 2, -1, np.int64)
    for raw, inner in mapping.items():
        if raw < len(lookup):
            lookup[raw] = inner
    return np.where(codes >= 0, lookup[np.clip(codes, 0, len(lookup) - 1)], -1)


def surprise_predict(algo: Any, trainset: Any, user: np.ndarray, item: np.ndarray) -> np.ndarray:
    """Surprise's estimate, vectorised: mu + b_u + b_i + q_i . (p_u [+ |I_u|^-1/2 sum y_j]),
    the parts of an unknown user or item left out, clipped to the rating scale."""
    u = _inner(trainset._raw2inner_id_users, user)
    i = _inner(trainset._raw2inner_id_items, item)
    pu = np.asarray(algo.pu, np.float64)
    if hasattr(algo, "yj"):  # SVD++: the implicit part of each user's vector
        yj = np.asarray(algo.yj, np.float64)
        for inner, rated in trainset.ur.items():
            js = [j for j, _ in rated]
            pu[inner] += yj[js].sum(axis=0) / np.sqrt(len(js))
    qi, bu, bi = np.asarray(algo.qi), np.asarray(algo.bu), np.asarray(algo.bi)
    ku, ki = u >= 0, i >= 0
    est = np.full(len(u), trainset.global_mean)
    est[ku] += bu[u[ku]]
    est[ki] += bi[i[ki]]
    both = ku & ki
    est[both] += np.einsum("nd,nd->n", pu[u[both]], qi[i[both]])
    low, high = trainset.rating_scale
    return np.clip(est, low, high)


#: fits shorter than this are repeated (the median is reported), as recexp's figure is the
#: median of its epochs: one 1-2 s fit on a shared machine is one sample of its noise
REPEAT_BELOW_SECONDS = 10.0
REPEATS = 5


def run_surprise(
    kind: str, settings: dict[str, Any], data: Any, trainset: Any, part: str = "test"
) -> dict[str, Any]:
    """Fit Surprise's ``kind`` (SVD or SVDpp) with ``settings``; score ``part``. A short fit
    is repeated (same seed, same model) and its median seconds reported."""
    import surprise

    def fit() -> float:
        start = time.perf_counter()
        algo.fit(trainset)
        return time.perf_counter() - start

    algo = getattr(surprise, kind)(random_state=42, **settings)
    fits = [fit()]
    if fits[0] < REPEAT_BELOW_SECONDS:
        fits += [fit() for _ in range(REPEATS - 1)]  # a refit starts from random_state again
    seconds = float(np.median(fits))
    target = getattr(data, part)
    pred = surprise_predict(algo, trainset, target.user, target.item)
    return {
        "algo": kind,
        "settings": settings,
        "fit_seconds": seconds,
        "fits_seconds": fits,
        "epochs": settings["n_epochs"],
        "ratings_per_second": settings["n_epochs"] * len(data.train) / seconds,
        f"{part}_rmse": float(np.sqrt(np.mean((pred - target.rating) ** 2))),
    }


class TestScore:
    """An epoch listener adding ``test_rmse`` to each row (before history.csv writes it)."""

    def __init__(self, model: Any, data: Any) -> None:
        from recexp.evaluation.rating import fallback_for

        self.model, self.data = model, data
        self.fallback = fallback_for(data)
        self.seconds = 0.0

    def on_epoch(self, row: dict[str, Any]) -> None:
        from recexp.evaluation.rating import predict_part, rmse

        start = time.perf_counter()
        pred = predict_part(self.model.predict, self.data, self.data.test, self.fallback)
        row["test_rmse"] = rmse(self.data.test.rating, pred)
        self.seconds += time.perf_counter() - start


def recexp_curve(config: Any, data: Any) -> dict[str, Any]:
    """Train ``config`` on ``data`` with a per-epoch test score; the curve from history.csv."""
    from recexp.display import Display
    from recexp.experiment import build_model, check_training_data, train_data
    from recexp.runs import HistoryCsv

    check_training_data(config, data)
    model = build_model(config, data, Display(quiet=True))  # the spec's thread pools too
    score = TestScore(model, data)
    history = Path(tempfile.mkdtemp(prefix="recexp-curve-")) / "history.csv"
    result = model.fit(train_data(config, data), [score, HistoryCsv(history)])
    with history.open() as f:
        rows = list(csv.DictReader(f))
    curve = [
        {
            "epoch": int(r["epoch"]),
            "seconds": float(r["seconds"]),
            "test_rmse": float(r["test_rmse"]),
        }
        for r in rows
    ]
    return {
        "curve": curve,
        "ratings_per_second": result.ratings_per_second,
        "train_seconds": result.train_seconds - score.seconds,
        "epochs": len(curve),
        "best_test_rmse": min(c["test_rmse"] for c in curve),
        "history_csv": str(history),
    }


def time_to(curve: list[dict[str, Any]], target: float) -> tuple[float | None, int | None]:
    """Training seconds (epoch ``seconds`` summed) until test RMSE <= ``target``; the epoch."""
    total = 0.0
    for row in curve:
        total += row["seconds"]
        if row["test_rmse"] <= target:
            return total, row["epoch"]
    return None, None


def peer_case(
    name: str, key: str, config: Any, data: Any, algos: tuple[str, ...] = ("SVD", "SVDpp")
) -> dict[str, Any]:
    """recexp's curve and Surprise's fits on one split; time to each peer's best test RMSE."""
    ours = recexp_curve(config, data)
    print(f"[{name}] recexp: {ours['ratings_per_second']:,.0f} ratings/s", flush=True)
    trainset = surprise_trainset(data)
    peers = []
    for algo in algos:
        peer = run_surprise(algo, SURPRISE_SETTINGS[key][algo], data, trainset)
        seconds, epoch = time_to(ours["curve"], peer["test_rmse"])
        peer.update(recexp_seconds_to_best=seconds, recexp_epoch_to_best=epoch)
        print(f"[{name}] {algo}: {peer}", flush=True)
        peers.append(peer)
    return {
        "case": name,
        "spec": config.name,
        "n_train": len(data.train),
        "recexp": ours,
        "peers": peers,
    }


def tune_surprise(
    kind: str, grid: dict[str, list[Any]], fixed: dict[str, Any], data: Any
) -> list[dict[str, Any]]:
    """Every point of ``grid`` (with ``fixed``) fitted once and scored on the validation part,
    best first: how SURPRISE_SETTINGS' values are chosen (never on test)."""
    import itertools

    trainset = surprise_trainset(data)
    rows = []
    for values in itertools.product(*grid.values()):
        settings = {**fixed, **dict(zip(grid, values, strict=True))}
        row = run_surprise(kind, settings, data, trainset, part="val")
        print(f"[tune {kind}] {settings}: val {row['val_rmse']:.4f}", flush=True)
        rows.append(row)
    return sorted(rows, key=lambda r: r["val_rmse"])


def main() -> None:
    """One case in its own process (TensorFlow's thread pools are per process, fixed at its
    start, so each spec gets its own ``training.threads``); prints the case as one JSON line."""
    import argparse
    import json

    from recexp.config import load_spec
    from recexp.data import prepare

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("name")
    parser.add_argument("key", choices=sorted(SURPRISE_SETTINGS))
    parser.add_argument("spec", type=Path)
    parser.add_argument("algos", help="comma-separated: SVD,SVDpp")
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    parser.add_argument(
        "--tune",
        metavar="JSON",
        help="instead: score each algo on validation over a grid, e.g. "
        "'{\"lr_all\": [0.005, 0.01]}'",
    )
    args = parser.parse_args()
    config = load_spec(args.spec, args.overrides)
    data = prepare(config.dataset, config.seed)
    if args.tune:
        grid = json.loads(args.tune)
        for algo in args.algos.split(","):
            fixed = {k: v for k, v in SURPRISE_SETTINGS[args.key][algo].items() if k not in grid}
            print(json.dumps(tune_surprise(algo, grid, fixed, data)), flush=True)
        return
    result = peer_case(args.name, args.key, config, data, tuple(args.algos.split(",")))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
