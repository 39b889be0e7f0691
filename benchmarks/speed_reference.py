"""The seeds' way, as the speed benchmark's reference: a plain Keras functional model, ``fit``
on int arrays, batch 256, Adam 1e-3, Keras' EarlyStopping, TensorFlow's default thread pools.

    python -m benchmarks.speed_reference FAMILY SPEC MAX_EPOCHS [--set KEY=VALUE ...]

Runs in its own process (``benchmarks.speed`` starts it), so its thread pools are
TensorFlow's defaults whatever recexp's specs ask for; the split is the spec's (same seed,
same codes). Prints one JSON line: ratings/s (median epoch), epochs, wall s, test RMSE, params.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np


def reference_model(family: str, n_users: int, n_items: int, mean: float) -> Any:
    import keras
    from keras import layers

    user = keras.Input(shape=(1,), name="user_input")
    item = keras.Input(shape=(1,), name="item_input")
    if family == "neumf":  # seed 000, as written there
        mlp_u = layers.Flatten()(layers.Embedding(n_users, 32, name="mlp_user_embedding")(user))
        mlp_i = layers.Flatten()(layers.Embedding(n_items, 32, name="mlp_item_embedding")(item))
        x = layers.Concatenate()([mlp_u, mlp_i])
        for i, units in enumerate([64, 32, 16]):
            x = layers.Dense(units, activation="relu", name=f"mlp_layer_{i}")(x)
        gmf_u = layers.Flatten()(layers.Embedding(n_users, 16, name="gmf_user_embedding")(user))
        gmf_i = layers.Flatten()(layers.Embedding(n_items, 16, name="gmf_item_embedding")(item))
        x = layers.Concatenate()([x, layers.Multiply()([gmf_u, gmf_i])])
        out = layers.Dense(1, name="out_layer")(x)
    else:  # biased dot product, as seed 004's RecommenderNet without the relu
        u = layers.Flatten()(layers.Embedding(n_users, 32)(user))
        i = layers.Flatten()(layers.Embedding(n_items, 32)(item))
        ub = layers.Flatten()(layers.Embedding(n_users, 1)(user))
        ib = layers.Flatten()(layers.Embedding(n_items, 1)(item))
        out = layers.Dense(1, bias_initializer=keras.initializers.Constant(mean))(
            layers.Add()([layers.Dot(axes=1)([u, i]), ub, ib])
        )
    return keras.Model([user, item], out)


class EpochTimer:
    def __init__(self) -> None:
        import keras

        class _Timer(keras.callbacks.Callback):
            def on_epoch_begin(cb, epoch: int, logs: Any = None) -> None:  # noqa: N805
                cb.t0 = time.perf_counter()

            def on_test_begin(cb, logs: Any = None) -> None:  # noqa: N805
                self.train_seconds.append(time.perf_counter() - cb.t0)

        self.train_seconds: list[float] = []
        self.callback = _Timer()


def run_reference(family: str, data: Any, max_epochs: int) -> dict[str, Any]:
    import keras

    from recexp.evaluation.rating import predict_part, rmse
    from recexp.models.closed_form import fit_biases

    keras.utils.set_random_seed(42)
    model = reference_model(family, data.n_users, data.n_items, data.global_mean)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    tr, va = data.train, data.val
    timer = EpochTimer()
    keep = va.known
    start = time.perf_counter()
    model.fit(
        [tr.user, tr.item],
        tr.rating,
        batch_size=256,
        epochs=max_epochs,
        verbose=0,
        validation_data=([va.user[keep], va.item[keep]], va.rating[keep]),
        callbacks=[
            timer.callback,
            keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True),
        ],
    )
    wall = time.perf_counter() - start
    fallback = fit_biases(tr.user, tr.item, tr.rating, data.n_users, data.n_items)

    def predict(u: np.ndarray, i: np.ndarray) -> np.ndarray:
        return model.predict([u, i], batch_size=65536, verbose=0).reshape(-1)

    pred = predict_part(predict, data, data.test, fallback)
    return {
        "ratings_per_second": len(tr) / statistics.median(timer.train_seconds),
        "epochs": len(timer.train_seconds),
        "wall_seconds": wall,
        "test_rmse": rmse(data.test.rating, pred),
        "params": model.count_params(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("family", choices=["mf", "neumf"])
    parser.add_argument("spec", type=Path)
    parser.add_argument("max_epochs", type=int)
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    args = parser.parse_args()
    from recexp.config import load_spec
    from recexp.data import prepare

    config = load_spec(args.spec, args.overrides)
    data = prepare(config.dataset, config.seed)
    print(json.dumps(run_reference(args.family, data, args.max_epochs)), flush=True)


if __name__ == "__main__":
    main()
