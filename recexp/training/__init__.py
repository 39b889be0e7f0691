"""Training: the fit loop, the compiled engine, optimizers (dense and sparse), schedules
and TensorFlow start-up.

This face imports without Keras: what callers pass in (:class:`TrainData`) and get back
(:class:`FitResult`), and the epoch events (:class:`EpochListener`). The Keras parts live
in :mod:`recexp.training.fit` and its neighbours and are imported by the code that
trains.
"""

from recexp.training.events import (
    EpochListener,
    FitResult,
    StopTraining,
    TrainData,
    error_logs,
)

__all__ = ["EpochListener", "FitResult", "StopTraining", "TrainData", "error_logs"]
