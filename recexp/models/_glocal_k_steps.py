"""The two ways ``glocal_k`` takes one "epoch": an L-BFGS-B run (scipy, as the repo) or a
few full-batch Adam steps (an approximation). Each maker takes the stage's objective
(``() -> (loss, squared error sum, absolute error sum)``), its variables, the iterations
per epoch and the number of observed entries, and returns ``epoch(n) -> logs``."""

from __future__ import annotations

from typing import Any

import numpy as np

from recexp.models._accuracy_common import current_lr
from recexp.models._accuracy_fit import epoch_logs


def lbfgs_epochs(objective: Any, variables: list[Any], iters: int, n_obs: float) -> Any:
    """Each epoch is one L-BFGS-B run of ``iters`` iterations (maxcor 10), restarted from
    the current weights, as the repo's ``ScipyOptimizerInterface`` loop."""
    import tensorflow as tf
    from scipy.optimize import minimize

    shapes = [tuple(v.shape) for v in variables]
    sizes = [int(np.prod(s)) for s in shapes]

    @tf.function
    def value_and_grad(flat: Any) -> Any:
        for v, part, shape in zip(variables, tf.split(flat, sizes), shapes, strict=True):
            v.assign(tf.reshape(part, shape))
        with tf.GradientTape() as tape:
            loss, sq, absolute = objective()
        grads = tape.gradient(loss, variables)
        return loss, sq, absolute, tf.concat([tf.reshape(g, [-1]) for g in grads], 0)

    last: list[float] = [0.0, 0.0, 0.0]

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        loss, sq, absolute, grad = value_and_grad(tf.constant(x, tf.float32))
        last[:] = [float(loss), float(sq), float(absolute)]
        return float(loss), np.asarray(grad, np.float64)

    def epoch(_: int) -> dict[str, Any]:
        x0 = np.concatenate([np.asarray(v).reshape(-1) for v in variables]).astype(np.float64)
        res = minimize(
            fun, x0, jac=True, method="L-BFGS-B", options={"maxiter": iters, "maxcor": 10}
        )
        fun(res.x)  # leave the variables at the returned point
        return epoch_logs(last[0], last[1], last[2], n_obs, None)

    return epoch


def adam_epochs(new_optimizer: Any) -> Any:
    """Full-batch steps of a new optimizer per stage (``new_optimizer()``: the spec's)."""

    def make(objective: Any, variables: list[Any], iters: int, n_obs: float) -> Any:
        import tensorflow as tf

        optimizer = new_optimizer()
        optimizer.build(variables)

        @tf.function
        def steps() -> Any:
            loss, sq, absolute = tf.constant(0.0), tf.constant(0.0), tf.constant(0.0)
            for _ in tf.range(iters):
                with tf.GradientTape() as tape:
                    loss, sq, absolute = objective()
                grads = tape.gradient(loss, variables)
                optimizer.apply_gradients(zip(grads, variables, strict=True))
            return loss, sq, absolute

        def epoch(_: int) -> dict[str, Any]:
            loss, sq, absolute = steps()
            return epoch_logs(loss, sq, absolute, n_obs, current_lr(optimizer))

        return epoch

    return make
