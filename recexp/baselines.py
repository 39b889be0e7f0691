"""Non-neural rating predictors in plain numpy: the floor every model must beat.

``fit_biases`` is the regularised baseline of Koren (2010) fitted by alternating
least squares, as Surprise's ``BaselineOnly``::

    r_hat(u, i) = mu + b_u + b_i
    b_i = sum_u (r - mu - b_u) / (reg_item + n_i);  b_u = sum_i (r - mu - b_i) / (reg_user + n_u)

It also gives the fallback prediction for ids unseen in training (see
:func:`recexp.evaluation.predict_part`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Biases:
    """``mu + b_u + b_i``; unknown ids (code < 0) get a zero bias."""

    mu: float
    user: np.ndarray
    item: np.ndarray

    def predict(self, user: np.ndarray, item: np.ndarray) -> np.ndarray:
        bu = np.where(user >= 0, self.user[np.maximum(user, 0)], 0.0)
        bi = np.where(item >= 0, self.item[np.maximum(item, 0)], 0.0)
        return (self.mu + bu + bi).astype(np.float32)


def fit_biases(
    user: np.ndarray,
    item: np.ndarray,
    rating: np.ndarray,
    n_users: int,
    n_items: int,
    reg_user: float = 15.0,
    reg_item: float = 10.0,
    sweeps: int = 10,
) -> Biases:
    """Regularised user and item biases by ``sweeps`` rounds of ALS (vectorised, no Keras)."""
    r = rating.astype(np.float64)
    mu = float(r.mean())
    n_u = np.bincount(user, minlength=n_users)
    n_i = np.bincount(item, minlength=n_items)
    bu = np.zeros(n_users)
    bi = np.zeros(n_items)
    for _ in range(sweeps):
        bi = np.bincount(item, r - mu - bu[user], minlength=n_items) / (reg_item + n_i)
        bu = np.bincount(user, r - mu - bi[item], minlength=n_users) / (reg_user + n_u)
    return Biases(mu, bu.astype(np.float32), bi.astype(np.float32))
