"""Learning-rate schedules for large-batch training (imports Keras: load lazily)."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="recexp")
class LinearWarmup(keras.optimizers.schedules.LearningRateSchedule):
    """Ramp the learning rate linearly from ``peak / warmup_steps`` to ``peak``, then hold.

    Large batches with a proportionally larger learning rate can diverge in the first
    steps, while the embeddings are random; a short warm-up avoids that (Goyal et al. 2017,
    "Accurate, Large Minibatch SGD", arXiv 1706.02677).

    Args:
        peak: float. The learning rate after warm-up.
        warmup_steps: int. Optimizer steps to reach ``peak``.
    """

    def __init__(self, peak: float, warmup_steps: int) -> None:
        self.peak = float(peak)
        self.warmup_steps = max(int(warmup_steps), 1)

    def __call__(self, step: Any) -> Any:
        fraction = ops.minimum((ops.cast(step, "float32") + 1.0) / self.warmup_steps, 1.0)
        return self.peak * fraction

    def get_config(self) -> dict[str, Any]:
        return {"peak": self.peak, "warmup_steps": self.warmup_steps}
