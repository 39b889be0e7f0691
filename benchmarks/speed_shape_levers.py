"""Levers on the 25M / 1M ratio: the same epochs at both shapes, one lever at a time.

``benchmarks.speed_profile`` calls :func:`shape_levers` with both shapes' data already
prepared. Each lever runs ``steps`` batches an epoch at each shape, the levers interleaved
round by round (a slow spell of the shared machine hits all alike); ratings/s is the
median of rounds 2..``rounds`` (the first traces). The levers:

* the spec as shipped (row-wise Adagrad: one accumulator a table row; dim 32);
* dim 8 tables (better on val at the 1M shape, worse at the 25M shape: see the spec);
* lazy Adam at dim 32 (the spec before 2026-12-03: two slots of ``dim`` numbers a row);
* the same with the engine before 2026-12-03 (rows in the caller's order, each batch
  gathered through the shuffled positions): what the in-place shuffle changed;
* sparse Adagrad (one slot of ``dim`` numbers a row), with recexp's gather/scatter ops
  and with TensorFlow's own fused C++ kernel (``ResourceSparseApplyAdagradV2``: one pass
  over the rows updates accumulator and weights; its epsilon sits outside the square root,
  Keras 3's inside, so it lives here as a benchmark lever, not as a product optimizer);
* neumf's 25M-shape spec (row-wise Adagrad on its four tables, lazy Adam on the MLP:
  TorchRec's split, lazy_adam's ``tables`` option), and the same with lazy Adam on
  everything (the spec before 2026-12-03).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from benchmarks.speed_scale import SPECS
from recexp.training.engine import CompiledEpochs
from recexp.training.sparse_optimizers import SparseAdagrad, _raw

ADAGRAD = [
    'optimizer={"name": "sparse_adagrad", "learning_rate": 0.2, "initial_accumulator_value": 1e-6}'
]
#: neumf's 25M-shape spec without lazy_adam's ``tables`` (row-wise Adagrad on the tables)
NEUMF_LAZY_ADAM = "optimizer.tables=null"
LAZY_ADAM = ['optimizer={"name": "lazy_adam", "learning_rate": 0.01}', "model.dim=32"]


@dataclass(frozen=True)
class Lever:
    """One row: a spec with overrides, optionally another optimizer or the old engine."""

    overrides: list[str] = field(default_factory=list)
    spec: str = "mf_ml25m_shape.yaml"
    optimizer: Callable[[Any], Any] | None = None  # config -> a Keras optimizer
    gathered: bool = False


def _fused_adagrad(config: Any) -> Any:
    o = config.optimizer
    return FusedSparseAdagrad(
        learning_rate=o.learning_rate, initial_accumulator_value=o.initial_accumulator_value
    )


LEVERS: dict[str, Lever] = {
    "the spec as shipped (row-wise Adagrad, dim 32)": Lever(),
    "dim 8 tables": Lever(["model.dim=8"]),
    "lazy Adam, dim 32 (the spec before 2026-12-03)": Lever(LAZY_ADAM),
    "lazy Adam, dim 32, batches gathered through the order (the engine before)": Lever(
        LAZY_ADAM, gathered=True
    ),
    "sparse Adagrad (gather/scatter ops)": Lever(ADAGRAD),
    "sparse Adagrad (TensorFlow's fused kernel)": Lever(ADAGRAD, optimizer=_fused_adagrad),
    "neumf: its spec as shipped (row-wise Adagrad on the tables, lazy Adam on the rest)": Lever(
        spec="neumf_ml25m_shape.yaml"
    ),
    "neumf: lazy Adam on everything (the spec before 2026-12-03)": Lever(
        [NEUMF_LAZY_ADAM], spec="neumf_ml25m_shape.yaml"
    ),
}


class FusedSparseAdagrad(SparseAdagrad):
    """SparseAdagrad whose row update is TensorFlow's fused ``ResourceSparseApplyAdagradV2``
    (repeated ids merged first): ``acc += g**2; w -= lr g / (sqrt(acc) + eps)``."""

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        if not isinstance(gradient, tf.IndexedSlices):
            super().update_step(gradient, variable, learning_rate)
            return
        indices, grad = self._prepare_sparse(gradient, variable)
        accumulator = _raw(self._accumulators[self._get_variable_index(variable)])
        tf.raw_ops.ResourceSparseApplyAdagradV2(
            var=_raw(variable).handle,
            accum=accumulator.handle,
            lr=tf.cast(learning_rate, variable.dtype),
            epsilon=tf.cast(self.epsilon, variable.dtype),
            grad=grad,
            indices=indices,
            use_locking=False,
            update_slots=True,
        )


class GatheredBatches(CompiledEpochs):
    """The engine before 2026-12-03: rows stay in the caller's order and each batch is
    gathered through the shuffled positions (a random read per rating)."""

    def __init__(self, model: Any, x: Any, y: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(model, x, y, *args, **kwargs)
        self.x0 = {k: tf.constant(v) for k, v in x.items()}
        self.y0 = tf.constant(y.reshape(-1, 1).astype(np.float32))

    def _shuffle_rows(self) -> Any:
        self.shuffles.assign_add(1)
        seed = tf.stack([tf.constant(self.seed, tf.int64), self.shuffles])
        self.order.assign(tf.random.experimental.stateless_shuffle(tf.range(self.n), seed))
        return tf.constant(0)

    def _batch(self, start: Any, stop: Any) -> Any:
        idx = self.order[start:stop]
        return {k: tf.gather(v, idx) for k, v in self.x0.items()}, tf.gather(self.y0, idx)


def _lever_engine(shape: list[str], data: Any, name: str, steps: int) -> CompiledEpochs:
    from recexp.config import load_spec
    from recexp.models.build import build_recommender
    from recexp.training.fit import id_inputs

    lever = LEVERS[name]
    config = load_spec(SPECS / lever.spec, [*shape, *lever.overrides])
    model = build_recommender(config, data).model
    if lever.optimizer is not None:
        model.compile(
            optimizer=lever.optimizer(config),
            loss=model.loss,
            metrics=[keras.metrics.RootMeanSquaredError(name="rmse")],
        )
    engine_class = GatheredBatches if lever.gathered else CompiledEpochs
    x = id_inputs(data.train.user, data.train.item)
    return engine_class(
        model, x, data.train.rating, config.training.batch_size, True, 42, max_steps=steps
    )


def shape_levers(
    shapes: dict[str, tuple[list[str], Any]], steps: int, rounds: int = 4
) -> list[dict[str, Any]]:
    """Per lever, ratings/s at each shape (``{name: (spec overrides, prepared data)}``) and
    their ratio (the last shape's over the first's); every engine is built first, then the
    rounds run them all in turn."""
    engines = {
        (lever, name): _lever_engine(shape, data, lever, steps)
        for lever in LEVERS
        for name, (shape, data) in shapes.items()
    }
    walls: dict[tuple[str, str], list[float]] = {key: [] for key in engines}
    for _ in range(rounds):
        for key, engine in engines.items():
            start = time.perf_counter()
            engine.run_epoch()  # the first round's epoch also traces
            walls[key].append(time.perf_counter() - start)
    names = list(shapes)
    out = []
    for lever in LEVERS:
        figures = {
            name: engines[lever, name].ratings_per_epoch / float(np.median(walls[lever, name][1:]))
            for name in names
        }
        ratio = figures[names[-1]] / figures[names[0]]
        out.append({"lever": lever, "ratings_per_second": figures, "ratio": ratio})
    return out
