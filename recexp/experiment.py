"""One spec -> one run directory: spec -> data -> model -> fit -> evaluate -> files.

Order matters for the promise "bad input leaves nothing half-written": the spec is
validated, the data prepared and the model built *before* the run directory exists.
From then on the directory always says what happened: ``running``, then ``completed``,
``failed`` (with the error), ``interrupted`` (Ctrl-C or SIGTERM: history so far and the
best weights kept) or ``pruned`` (a tuner stopped it: the same).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from recexp.config import ExperimentConfig
from recexp.data import Dataset, prepare
from recexp.display import Display
from recexp.errors import ConfigError
from recexp.models.protocol import ModelSummary, Recommender
from recexp.run_metrics import Metrics
from recexp.runs import CONFIG, ENV, RANKING_USERS, SUMMARY, SUMMARY_TEXT, RunDir
from recexp.signals import deferred_signals, sigterm_as_interrupt
from recexp.training.events import EpochListener, FitResult, TrainData


def run_experiment(
    config: ExperimentConfig,
    runs_root: str | Path = "runs",
    *,
    quiet: bool = False,
    display: Display | None = None,
    listeners: Sequence[EpochListener] = (),
    mlflow_parent: str | None = None,
) -> RunDir:
    """Train and evaluate ``config``; returns the run directory when training ran to its
    end (completed or pruned). Ctrl-C or SIGTERM raise KeyboardInterrupt once the
    directory is written (status ``interrupted``). ``mlflow_parent`` nests the MLflow run
    (a fold, a seed, a trial) under its parent's."""
    from recexp.tracking import trackers_from_options
    from recexp.training.distribute_options import is_chief

    display = display or Display(quiet=quiet)
    start = time.perf_counter()
    trackers = []  # a multi-worker cluster's other workers track nothing
    if is_chief(config.training.distribute):  # probed first: a bad store is refused in seconds
        trackers = trackers_from_options(
            config.tracking, parent_run_id=mlflow_parent, run_name=config.name
        )
    with display.working(f"loading, splitting and encoding {config.dataset.name}"):
        data = prepare(config.dataset, config.seed)
    data_seconds = time.perf_counter() - start
    check_training_data(config, data)
    warn_dense_l2(config, data, display)
    model = build_model(config, data, display)
    summary = model.summary()
    run = RunDir.create(runs_root, config.name)
    run.set_status("running")
    display.message(f"run directory: {run.path}")
    outcome = Outcome(run, trackers)
    try:
        with sigterm_as_interrupt():
            write_inputs(run, config, data, summary)
            outcome.start(config)
            display.start(
                f"{config.name}: {config.model.family}", model.planned_epochs(config.training)
            )
            try:
                fit_listeners: list[EpochListener] = [run.history(), display, *trackers]
                fit_listeners += listeners
                result = model.fit(train_data(config, data), fit_listeners)
            finally:
                display.stop()
        with deferred_signals() as arrived:
            metrics = finish(run, model, config, data, summary, result, data_seconds)
            write_plots(run, data, display)
            outcome.end(end_status(run, display, metrics, result, time.perf_counter() - start))
    except BaseException as error:
        outcome.fail(error)
        raise
    if arrived:  # a signal while the directory was being written: honoured now
        raise arrived[0]
    if result.interrupted:
        raise result.interrupt or KeyboardInterrupt()
    return run


class Outcome:
    """The end of a run, told to the run directory and to the trackers (MLflow, ...)."""

    def __init__(self, run: RunDir, trackers: Sequence[Any]) -> None:
        self.run, self.trackers, self.started = run, trackers, False

    def start(self, config: ExperimentConfig) -> None:
        from recexp.tracking import start_all

        start_all(self.trackers, config.resolved(), self.run.path)
        self.started = True

    def end(self, state: str) -> None:
        from recexp.tracking import finish_all

        if self.started:
            metrics = self.run.metrics().as_json() if state != "failed" else {}
            finish_all(self.trackers, metrics, state, self.run.path)

    def fail(self, error: BaseException) -> None:
        state = "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"
        self.run.set_status(
            state,
            error=str(error) or error.__class__.__name__,
            error_type=error.__class__.__name__,
            traceback=traceback.format_exc(limit=20),
        )
        if getattr(error, "file", False) is None:
            error.file = str(self.run.path)  # type: ignore[attr-defined]
        self.end(state)


def write_plots(run: RunDir, data: Dataset, display: Display) -> None:
    """curves.png and errors.png (error by training activity); a plotting problem warns."""
    try:
        from recexp.plots import train_counts_from, write_run_plots

        frame = data.ratings.frame
        rows = data.train.rows
        counts = train_counts_from(frame["user"].to_numpy()[rows], frame["item"].to_numpy()[rows])
        write_run_plots(run.path, counts)
    except Exception as error:  # the run's numbers are written; a picture is not worth failing
        display.message(f"[yellow]warning:[/] no plots ({error.__class__.__name__}: {error})")


def check_training_data(config: ExperimentConfig, data: Dataset) -> None:
    """Problems that show only once the data is split, raised before any run directory exists:
    no validation ratings to stop on, tables too big for this machine (file data)."""
    from recexp.memory import check_memory

    check_memory(config, sizes=(data.n_users, data.n_items))
    stopping = config.training.early_stopping
    if stopping and stopping.monitor.startswith("val_") and not data.val.known.any():
        raise ConfigError(
            "early stopping on a validation metric needs validation ratings "
            "(set dataset.split.val or validation_split above 0, or early_stopping: null)",
            key="training.early_stopping.monitor",
            got=stopping.monitor,
        )


def build_model(config: ExperimentConfig, data: Dataset, display: Display) -> Recommender:
    """TensorFlow's thread pools as ``training.threads`` asks, then the spec's model."""
    from recexp.models.build import build_recommender
    from recexp.training.tf_start import set_threads

    with display.working(f"starting TensorFlow, building {config.model.family}"):
        threads = config.training.threads
        kept = set_threads(threads.intra_op, threads.inter_op)
        model = build_recommender(config, data)
    if kept:
        display.message(f"[yellow]warning:[/] {kept}")
    return model


def warn_dense_l2(config: ExperimentConfig, data: Dataset, display: Display) -> None:
    """One line when whole-table L2 and a dense optimizer meet a large table (slow)."""
    from recexp.memory import dense_l2_warning

    warning = dense_l2_warning(config, (data.n_users, data.n_items))
    if warning:
        display.message(f"[yellow]warning:[/] {warning}")


def train_data(config: ExperimentConfig, data: Dataset) -> TrainData:
    """The arrays a fit takes: codes, and ratings in training units (known val rows only);
    an implicit objective's ``positive_min_rating`` keeps the training rows rated above it."""
    val, train = data.val, data.train
    known = np.flatnonzero(val.known)
    threshold = config.training.objective.positive_min_rating
    keep = slice(None) if threshold is None else train.rating >= threshold  # the positives
    return TrainData(
        user=train.user[keep],
        item=train.item[keep],
        rating=data.transform.forward(train.rating[keep]),
        val_user=val.user[known],
        val_item=val.item[known],
        val_rating=data.transform.forward(val.rating[known]),
        val_ranking=val_ranking(config, data),
        n_users=data.n_users,
        n_items=data.n_items,
        options=config.training,
        optimizer=config.optimizer,
        seed=config.seed,
        title=config.name,
    )


def val_ranking(config: ExperimentConfig, data: Dataset) -> Any:
    """``f(scorer) -> val ranking metrics`` when early stopping monitors one, else None."""
    from recexp.evaluation.options import is_ranking_metric

    stopping, options = config.training.early_stopping, config.evaluation.ranking
    if stopping is None or options is None or not is_ranking_metric(stopping.monitor):
        return None
    from recexp.evaluation.ranking import evaluate_ranking
    from recexp.evaluation.ranking_data import ranking_protocol

    protocol = ranking_protocol(data, "val", options, config.seed)
    return lambda score: evaluate_ranking(score, protocol).metrics


def write_inputs(run: RunDir, config: ExperimentConfig, data: Dataset, summary: ModelSummary):
    run.write_text(CONFIG, yaml.safe_dump(config.resolved(), sort_keys=False))
    run.write_text(SUMMARY_TEXT, summary.text + "\n")
    run.write_json(SUMMARY, summary.as_dict())
    from recexp.run_facts import environment

    run.write_json(ENV, environment(config, data))


def finish(
    run: RunDir,
    model: Recommender,
    config: ExperimentConfig,
    data: Dataset,
    summary: ModelSummary,
    result: FitResult,
    data_seconds: float,
) -> Metrics:
    """Evaluate, then write predictions.parquet, metrics.json and the model."""
    from recexp.evaluation.evaluator import evaluate
    from recexp.run_facts import run_facts

    evaluation = evaluate(model, config, data)
    if evaluation.predictions is not None:
        run.write_predictions(evaluation.predictions)
    if evaluation.ranking_users is not None:
        run.write_predictions(evaluation.ranking_users, RANKING_USERS)
    facts = run_facts(config, data, model, summary, result, data_seconds)
    metrics = Metrics(**facts, **evaluation.metrics.as_json())
    run.write_metrics(metrics)
    model.save(run.path)
    return metrics


def end_status(
    run: RunDir, display: Display, metrics: Metrics, result: FitResult, seconds: float
) -> str:
    """Write the run's final status and say it; returns the status."""
    epochs = len(result.history)
    if result.interrupted:
        run.set_status("interrupted", reason="stopped by signal; best weights kept", epochs=epochs)
        display.message(f"[yellow]interrupted[/] after {epochs} epochs: {run.path}")
        return "interrupted"
    if result.pruned:
        run.set_status("pruned", reason=result.pruned, epochs=epochs)
        display.message(f"pruned after {epochs} epochs ({result.pruned}): {run.path}")
        return "pruned"
    run.set_status("completed", seconds=round(seconds, 2))
    display.message(f"{result_line(metrics)}  -> {run.path}")
    for warning in metrics.warnings or []:
        display.message(f"[yellow]warning:[/] {warning}")
    return "completed"


def result_line(metrics: Metrics) -> str:
    """The end-of-run line: test RMSE/MAE against the baselines, and the top-N headline."""
    from recexp.evaluation.ranking import headline

    test, base = metrics.test, metrics.baselines
    parts = []
    if test.rmse is not None and test.mae is not None:
        others = [  # the baselines beside the run, but not the run itself (biases)
            f"{name} {value:.4f}"
            for family, name, value in (
                ("global_mean", "global mean", base.global_mean_test_rmse),
                ("biases", "biases", base.biases_test_rmse),
            )
            if family != metrics.model and value is not None
        ]
        parts.append(
            f"test RMSE {test.rmse:.4f}  MAE {test.mae:.4f}"
            + (f"  ({', '.join(others)})" if others else "")
        )
    facts, popular = metrics.ranking, base.popularity_test_ranking
    if test.ranking and facts is not None and facts.k:
        line = f"test {headline(test.ranking, facts.k)}"
        if popular:
            line += f" (most popular {headline(popular, facts.k)})"
        parts.append(line)
    return "\n".join(parts) or "no test metrics"
