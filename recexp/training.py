"""Build, compile and fit a Keras model for an experiment (imports Keras: load lazily).

Training data are int32 code arrays and float32 ratings in training units, fed to
``model.fit`` as numpy arrays. Early stopping keeps the best weights in memory, so
an interrupted run still saves the best model it saw.
"""

from __future__ import annotations

import csv
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from recexp.config import EarlyStopping, ExperimentConfig
from recexp.data.pipeline import Dataset, Part
from recexp.display import Display
from recexp.errors import ConfigError, TrainingError
from recexp.models import MODELS, BuildContext
from recexp.optim import make_optimizer
from recexp.schedules import LinearWarmup

LOSSES = {"mse": "mean_squared_error", "mae": "mean_absolute_error", "huber": "huber"}


def build_model(config: ExperimentConfig, data: Dataset) -> keras.Model:
    """The model the spec describes, sized for ``data``'s vocabularies."""
    keras.utils.set_random_seed(config.seed)
    lo, hi = data.transform.forward(np.array([data.scale.min, data.scale.max], np.float32))
    ctx = BuildContext(
        n_users=data.n_users,
        n_items=data.n_items,
        global_mean=float(data.transform.forward(np.array([data.global_mean]))[0]),
        rating_min=float(lo),
        rating_max=float(hi),
        user_embedding=config.embedding.user,
        item_embedding=config.embedding.item,
        user_counts=data.user_counts(),
        item_counts=data.item_counts(),
        seed=config.seed,
        features=_features(config, data),
    )
    return MODELS.get(config.model.family, key="model.family").fn(config.model, ctx)


def _features(config: ExperimentConfig, data: Dataset) -> dict[str, Any]:
    """Side features as int tables per code, for the families that use them."""
    if not getattr(config.model, "use_features", False):
        return {}
    from recexp.models.features import encode_features

    r = data.ratings
    users, items = np.asarray(data.users.ids), np.asarray(data.items.ids)
    return encode_features(r.user_features, r.item_features, users, items)


def effective_learning_rate(config: ExperimentConfig, batch_size: int) -> float:
    """``optimizer.learning_rate`` scaled for the batch size by ``training.lr_scaling``."""
    t = config.training
    ratio = batch_size / t.lr_base_batch_size
    power = {"none": 0.0, "sqrt": 0.5, "linear": 1.0}[t.lr_scaling]
    return config.optimizer.learning_rate * ratio**power


def compile_model(model: keras.Model, config: ExperimentConfig, n_train: int | None = None) -> None:
    """Compile with the spec's optimizer, loss and metrics.

    ``n_train`` (training ratings) sizes the batch for ``lr_scaling`` and the warm-up.
    """
    t = config.training
    optimizer = make_optimizer(config.optimizer)
    if n_train and (t.lr_scaling != "none" or t.warmup_epochs):
        batch_size = n_train if t.batch_size == "full" else min(t.batch_size, n_train)
        peak = effective_learning_rate(config, batch_size)
        steps = round(t.warmup_epochs * math.ceil(n_train / batch_size))
        optimizer.learning_rate = LinearWarmup(peak, steps) if steps else peak
    model.compile(
        optimizer=optimizer,
        loss=LOSSES[t.loss],
        metrics=[
            keras.metrics.RootMeanSquaredError(name="rmse"),
            keras.metrics.MeanAbsoluteError(name="mae"),
        ],
        steps_per_execution=t.steps_per_execution,
        jit_compile=t.jit_compile,
    )


def model_inputs(part: Part, rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Feed dict for the id inputs (views, no copies unless ``rows`` selects)."""
    user, item = (part.user, part.item) if rows is None else (part.user[rows], part.item[rows])
    return {"user_input": user.reshape(-1, 1), "item_input": item.reshape(-1, 1)}


@dataclass
class FitResult:
    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int | None = None
    best_value: float | None = None
    stopped_early: bool = False
    interrupted: bool = False
    train_seconds: float = 0.0
    ratings_per_second: float = 0.0


class EarlyStop(keras.callbacks.Callback):
    """Early stopping that remembers the best epoch and weights, and fails on a NaN loss."""

    def __init__(self, options: EarlyStopping | None, monitor_default: str = "loss") -> None:
        super().__init__()
        self.options = options
        self.monitor = options.monitor if options else monitor_default
        mode = options.mode if options else "min"
        if mode == "auto":
            mode = (
                "max" if any(k in self.monitor for k in ("acc", "auc", "ndcg", "recall")) else "min"
            )
        self.sign = 1.0 if mode == "min" else -1.0
        self.best: float = math.inf
        self.best_epoch: int | None = None
        self.best_weights: list[np.ndarray] | None = None
        self.wait = 0
        self.stopped_early = False
        self.nan_epoch: int | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        loss = logs.get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.nan_epoch = epoch + 1
            self.model.stop_training = True
            return
        if self.monitor not in logs:
            raise ConfigError(
                "early stopping monitors a metric that training does not log; logged: "
                + ", ".join(sorted(logs)),
                key="training.early_stopping.monitor",
                got=self.monitor,
            )
        value = self.sign * float(logs[self.monitor])
        min_delta = self.options.min_delta if self.options else 0.0
        if value < self.best - min_delta or self.best_epoch is None:
            self.best, self.best_epoch, self.wait = value, epoch + 1, 0
            if self.options is not None and self.options.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.options is not None and self.wait >= self.options.patience:
            self.stopped_early = True
            self.model.stop_training = True

    def restore(self) -> None:
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class EpochLog(keras.callbacks.Callback):
    """Appends one row per epoch to history.csv and shows it; times the training phase."""

    def __init__(self, path: Path, display: Display, lr_of: Any) -> None:
        super().__init__()
        self.path = path
        self.display = display
        self.lr_of = lr_of
        self.rows: list[dict[str, Any]] = []
        self.train_seconds: list[float] = []
        self._fields: list[str] | None = None

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._t0 = time.perf_counter()
        self._t_train: float | None = None

    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        if self._t_train is None:  # validation starts: the training phase is over
            self._t_train = time.perf_counter() - self._t0

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        seconds = time.perf_counter() - self._t0
        self.train_seconds.append(self._t_train if self._t_train is not None else seconds)
        row = {"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}}
        row["learning_rate"] = self.lr_of()
        row["seconds"] = round(seconds, 4)
        self.rows.append(row)
        new = self._fields is None
        fields = self._fields = self._fields or list(row)
        with self.path.open("a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow(row)
        self.display.epoch(row)


def check_training_data(config: ExperimentConfig, data: Dataset) -> None:
    """Problems that show only once the data is split, raised before any run directory exists."""
    stopping = config.training.early_stopping
    if stopping and stopping.monitor.startswith("val_") and not data.val.known.any():
        raise ConfigError(
            "early stopping on a validation metric needs validation ratings "
            "(set dataset.split.val or validation_split above 0, or early_stopping: null)",
            key="training.early_stopping.monitor",
            got=stopping.monitor,
        )


def fit(
    model: keras.Model,
    config: ExperimentConfig,
    data: Dataset,
    history_path: Path,
    display: Display,
) -> FitResult:
    """Fit with early stopping; Ctrl-C stops training and keeps the best weights."""
    t = config.training
    train = data.train
    x = model_inputs(train)
    y = data.transform.forward(train.rating)
    val_rows = np.flatnonzero(data.val.known)
    validation = None
    if len(val_rows):
        validation = (
            model_inputs(data.val, val_rows),
            data.transform.forward(data.val.rating[val_rows]),
        )
    batch_size = len(y) if t.batch_size == "full" else t.batch_size
    stopper = EarlyStop(t.early_stopping)
    optimizer = model.optimizer
    log = EpochLog(
        history_path, display, lambda: float(keras.ops.convert_to_numpy(optimizer.learning_rate))
    )
    result = FitResult()
    start = time.perf_counter()
    display.start(f"{config.name}: {config.model.family}", t.max_epochs)
    try:
        if t.engine == "compiled":
            _fit_compiled(model, config, x, y, validation, batch_size, [log, stopper])
        else:
            model.fit(
                x,
                y,
                batch_size=batch_size,
                epochs=t.max_epochs,
                validation_data=validation,
                validation_batch_size=t.eval_batch_size,
                shuffle=t.shuffle,
                callbacks=[log, stopper],
                verbose=0,
            )
    except KeyboardInterrupt:
        result.interrupted = True
    finally:
        display.stop()
    result.train_seconds = time.perf_counter() - start
    if stopper.nan_epoch is not None:
        raise TrainingError(
            f"loss became NaN at epoch {stopper.nan_epoch}; lower optimizer.learning_rate "
            "or set optimizer.clipnorm",
            key="optimizer.learning_rate",
            got=config.optimizer.learning_rate,
        )
    stopper.restore()  # no-op unless early stopping keeps best weights
    result.history = log.rows
    result.best_epoch = stopper.best_epoch
    result.best_value = None if stopper.best_epoch is None else stopper.sign * stopper.best
    result.stopped_early = stopper.stopped_early
    steady = log.train_seconds[1:] or log.train_seconds  # the first epoch pays for tracing
    if steady:
        result.ratings_per_second = len(y) / float(np.median(steady))
    return result


def _fit_compiled(
    model: keras.Model,
    config: ExperimentConfig,
    x: dict[str, np.ndarray],
    y: np.ndarray,
    validation: tuple[dict[str, np.ndarray], np.ndarray] | None,
    batch_size: int,
    callbacks: list[keras.callbacks.Callback],
) -> None:
    """The ``engine: compiled`` loop: whole epochs in one graph call, callbacks as in fit."""
    from recexp.engine import CompiledEpochs, GraphPredictor

    t = config.training
    engine = CompiledEpochs(model, x, y, batch_size, t.shuffle, config.seed)
    predict = GraphPredictor(model, t.eval_batch_size)
    for callback in callbacks:
        callback.set_model(model)
    model.stop_training = False
    for epoch in range(t.max_epochs):
        for callback in callbacks:
            callback.on_epoch_begin(epoch)
        logs = engine.run_epoch()
        if validation is not None:
            for callback in callbacks:
                callback.on_test_begin()
            err = predict(validation[0]) - validation[1]
            logs.update(_error_logs(err, t.loss, prefix="val_"))
        for callback in callbacks:
            callback.on_epoch_end(epoch, logs)
        if model.stop_training:
            break


def _error_logs(err: np.ndarray, loss: str, prefix: str = "") -> dict[str, float]:
    """Loss (data term only), RMSE and MAE of prediction errors, as Keras would log them."""
    err = err.astype(np.float64)
    mse = float(np.mean(err**2))
    absolute = np.abs(err)
    if loss == "mse":
        value = mse
    elif loss == "mae":
        value = float(absolute.mean())
    else:  # huber, delta 1 (Keras' default)
        value = float(np.mean(np.where(absolute <= 1, 0.5 * err**2, absolute - 0.5)))
    return {
        f"{prefix}loss": value,
        f"{prefix}rmse": math.sqrt(mse),
        f"{prefix}mae": float(absolute.mean()),
    }


def fit_baseline(
    model: Any, config: ExperimentConfig, data: Dataset, history_path: Path, display: Display
) -> FitResult:
    """Fit a numpy baseline in closed form: one "epoch", logged like any other."""
    train = data.train
    log = EpochLog(history_path, display, lambda: None)  # no learning rate
    display.start(f"{config.name}: {config.model.family}", 1)
    log.on_epoch_begin(0)
    start = time.perf_counter()
    model.fit(train.user, train.item, data.transform.forward(train.rating))
    seconds = time.perf_counter() - start
    logs: dict[str, float] = {}
    for prefix, part in (("", train), ("val_", data.val)):
        if len(part):
            err = model.predict(part.user, part.item) - data.transform.forward(part.rating)
            logs.update(_error_logs(err, config.training.loss, prefix))
    log.on_epoch_end(0, logs)
    display.stop()
    return FitResult(
        history=log.rows,
        best_epoch=1,
        train_seconds=seconds,
        ratings_per_second=len(train) / max(seconds, 1e-9),
    )


def predict_fn(model: keras.Model, batch_size: int) -> Any:
    """``f(user_codes, item_codes) -> predictions`` in training units."""

    def predict(user: np.ndarray, item: np.ndarray) -> np.ndarray:
        inputs = {"user_input": user.reshape(-1, 1), "item_input": item.reshape(-1, 1)}
        return np.asarray(model.predict(inputs, batch_size=batch_size, verbose=0)).reshape(-1)

    return predict
