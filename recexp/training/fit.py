"""Compile and fit a Keras model on code arrays (imports Keras: load lazily).

Training data are int32 code arrays and float32 ratings in training units. Early
stopping keeps the best weights in memory, so an interrupted or pruned fit still ends
with the best model it saw.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

from recexp.errors import TrainingError
from recexp.training.callbacks import EarlyStop, EpochLog, RankingLog
from recexp.training.events import EpochListener, FitResult, StopTraining, TrainData, error_logs
from recexp.training.optimizers import OptimizerOptions, make_optimizer
from recexp.training.schedules import LinearWarmup

if TYPE_CHECKING:
    from recexp.config import TrainingOptions

LOSSES = {"mse": "mean_squared_error", "mae": "mean_absolute_error", "huber": "huber"}


def effective_learning_rate(
    training: TrainingOptions, optimizer: OptimizerOptions, batch_size: int
) -> float:
    """``optimizer.learning_rate`` scaled for the batch size by ``training.lr_scaling``."""
    ratio = batch_size / training.lr_base_batch_size
    power = {"none": 0.0, "sqrt": 0.5, "linear": 1.0}[training.lr_scaling]
    return optimizer.learning_rate * ratio**power


def compile_model(
    model: keras.Model,
    training: TrainingOptions,
    optimizer_options: OptimizerOptions,
    n_train: int | None = None,
) -> None:
    """Compile with the spec's optimizer, loss and metrics.

    ``n_train`` (training ratings) sizes the batch for ``lr_scaling`` and the warm-up.
    """
    t = training
    optimizer = make_optimizer(optimizer_options)
    if n_train and (t.lr_scaling != "none" or t.warmup_epochs):
        batch_size = n_train if t.batch_size == "full" else min(t.batch_size, n_train)
        peak = effective_learning_rate(t, optimizer_options, batch_size)
        steps = round(t.warmup_epochs * math.ceil(n_train / batch_size))
        optimizer.learning_rate = LinearWarmup(peak, steps) if steps else peak
        if hasattr(optimizer, "table_learning_rate"):  # the tables' own rate scales alike
            optimizer.table_learning_rate *= peak / optimizer_options.learning_rate
    loss: Any = LOSSES[t.loss]
    metrics: list[Any] = [
        keras.metrics.RootMeanSquaredError(name="rmse"),
        keras.metrics.MeanAbsoluteError(name="mae"),
    ]
    if t.objective.implicit:  # the output is a score: no rating metrics
        from recexp.training.negatives import objective_loss

        loss, metrics = objective_loss(t.objective), []
    model.compile(
        optimizer=optimizer,
        loss=loss,
        metrics=metrics,
        steps_per_execution=t.steps_per_execution,
        jit_compile=t.jit_compile,
    )


def id_inputs(user: np.ndarray, item: np.ndarray) -> dict[str, np.ndarray]:
    """Feed dict for the id inputs (views, no copies)."""
    return {"user_input": user.reshape(-1, 1), "item_input": item.reshape(-1, 1)}


def fit(
    model: keras.Model,
    data: TrainData,
    listeners: Sequence[EpochListener],
    scorer: Callable[[], Any] | None = None,
) -> FitResult:
    """Fit with early stopping; Ctrl-C or a listener's StopTraining keeps the best weights.
    ``scorer()`` gives the model's top-N scorer, for ``data.val_ranking`` each epoch."""
    t = data.options
    x, y = id_inputs(data.user, data.item), data.rating
    validation = None
    if data.has_validation and not t.objective.implicit:  # ratings to compare with
        validation = (id_inputs(data.val_user, data.val_item), data.val_rating)
    batch_size = len(y) if t.batch_size == "full" else t.batch_size
    stopper = EarlyStop(t.early_stopping)
    optimizer = model.optimizer
    log = EpochLog(listeners, lambda: float(keras.ops.convert_to_numpy(optimizer.learning_rate)))
    callbacks: list[keras.callbacks.Callback] = [log, stopper]
    if data.val_ranking is not None and scorer is not None:
        callbacks.insert(0, RankingLog(data.val_ranking, scorer))
    result = FitResult()
    start = time.perf_counter()
    try:
        if t.engine == "compiled":
            _fit_compiled(model, data, x, validation, batch_size, callbacks)
        else:
            model.fit(
                x,
                y,
                batch_size=batch_size,
                epochs=t.max_epochs,
                validation_data=validation,
                validation_batch_size=t.eval_batch_size,
                shuffle=t.shuffle,
                steps_per_epoch=t.steps_per_epoch,
                callbacks=callbacks,
                verbose=0,
            )
    except KeyboardInterrupt as signal:
        result.interrupted, result.interrupt = True, signal
    except StopTraining as stop:
        result.pruned = stop.reason
    result.train_seconds = time.perf_counter() - start
    if stopper.nan_epoch is not None:
        raise TrainingError(
            f"loss became NaN at epoch {stopper.nan_epoch}; lower optimizer.learning_rate "
            "or set optimizer.clipnorm",
            key="optimizer.learning_rate",
            got=data.optimizer.learning_rate,
        )
    stopper.restore()  # no-op unless early stopping keeps best weights
    result.history = log.rows
    result.best_epoch, result.best_value = stopper.best_epoch, stopper.best_value
    result.stopped_early = stopper.stopped_early
    per_epoch = len(y) if t.steps_per_epoch is None else min(len(y), t.steps_per_epoch * batch_size)
    result.ratings_per_second = log.ratings_per_second(per_epoch)
    return result


def _fit_compiled(
    model: keras.Model,
    data: TrainData,
    x: dict[str, np.ndarray],
    validation: tuple[dict[str, np.ndarray], np.ndarray] | None,
    batch_size: int,
    callbacks: list[keras.callbacks.Callback],
) -> None:
    """The ``engine: compiled`` loop: epochs in bounded graph calls, callbacks as in fit."""
    from recexp.training.engine import CompiledEpochs, GraphPredictor

    t = data.options
    strategy = getattr(model, "_distribute_strategy", None)  # set by Keras in a scope
    engine = CompiledEpochs(
        model,
        x,
        data.rating,
        batch_size,
        t.shuffle,
        data.seed,
        strategy=strategy,
        one_step_calls=t.distribute.strategy == "multi_worker",
        max_steps=t.steps_per_epoch,
        sampler=_sampler(data),
    )
    predict = GraphPredictor(model, t.eval_batch_size)
    for callback in callbacks:
        callback.set_model(model)
    model.stop_training = False
    for epoch in range(t.max_epochs):
        for callback in callbacks:
            callback.on_epoch_begin(epoch)
        logs = engine.run_epoch()
        for callback in callbacks:  # the training phase is over (its time is measured)
            callback.on_test_begin()
        if validation is not None:
            err = predict(validation[0]) - validation[1]
            logs.update(error_logs(err, t.loss, prefix="val_"))
        for callback in callbacks:
            callback.on_epoch_end(epoch, logs)
        if model.stop_training:
            break


def _sampler(data: TrainData) -> Any:
    """The negative sampler of an implicit objective (None for ``rating``)."""
    objective = data.options.objective
    if not objective.implicit:
        return None
    from recexp.training.negatives import NegativeSampler

    return NegativeSampler(objective, data.user, data.item, data.n_items, data.seed)


def predictor(model: keras.Model, batch_size: int) -> Any:
    """``f(user_codes, item_codes) -> predictions`` in training units, in graph mode."""
    from recexp.training.engine import GraphPredictor

    call = GraphPredictor(model, batch_size)

    def predict(user: np.ndarray, item: np.ndarray) -> np.ndarray:
        return call(id_inputs(np.asarray(user, np.int32), np.asarray(item, np.int32)))

    return predict
