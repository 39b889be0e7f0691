"""``ease``: Embarrassingly Shallow Autoencoders (Steck 2019), an item-item model in
closed form, often the strongest top-N baseline on MovieLens.

With ``X`` the binary users x items training matrix and ``lambda = l2``::

    G = X^T X + lambda I,   P = G^-1,   B = -P / diag(P) (column j divided by -P_jj),
    diag(B) = 0,            score(u, :) = X[u] B

``G`` is a dense items x items float64 matrix, inverted in place by its Cholesky factor
(it is symmetric positive definite; LAPACK potrf + potri): about 3 x n_items^2 x 8 bytes
at the peak (G and its factor, the inverse, one triangle; B is kept as float32). An item
count above ``max_items`` (default 40,000: about 36 GiB), or one needing more than this
machine's memory, is refused in one line: at validation where the spec says the item
count (synthetic and known datasets), else when the model is built. It predicts no rating.

References:
    Harald Steck. Embarrassingly Shallow Autoencoders for Sparse Data. WWW 2019.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, PositiveFloat, PositiveInt

from recexp.errors import ConfigError
from recexp.models.base import MODELS, BuildContext
from recexp.models.protocol import Recommender
from recexp.models.topn import TopNOptions, TopNRecommender
from recexp.training.events import TrainData

#: float64 items x items matrices alive at once (G and its factor in place, P, a triangle)
GRAM_COPIES = 3


def gram_bytes(n_items: int) -> int:
    """Peak memory of fitting ease on ``n_items`` items."""
    return GRAM_COPIES * 8 * n_items * n_items


def gib(n: int) -> str:
    """Bytes in GiB (MiB below a tenth of a GiB)."""
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 / 10 else f"{n / 2**20:.1f} MiB"


class EASEOptions(TopNOptions):
    """Item-item weights by ridge regression of each item on all others, in closed form."""

    family: Literal["ease"] = "ease"
    l2: PositiveFloat = Field(500.0, description="lambda: ridge penalty on the item weights")
    max_items: PositiveInt = Field(
        40_000, description="refuse more items (the dense Gram matrix grows as items^2)"
    )

    def refusal(self, n_items: int) -> str | None:
        """Why ``n_items`` items cannot be fitted (one line), or None."""
        from recexp.memory import machine_memory

        need, memory = gram_bytes(n_items), machine_memory()
        if n_items <= self.max_items and (memory is None or need <= memory):
            return None
        limit = (
            f"more than max_items ({self.max_items:,})"
            if n_items > self.max_items
            else f"more than this machine's {gib(memory or 0)} of memory"
        )
        return (
            f"ease inverts a dense items x items matrix: {n_items:,} items need about "
            f"{gib(need)} (float64, {GRAM_COPIES} copies), {limit}"
        )

    def unsupported(self, config: Any) -> tuple[str, str, Any] | None:
        from recexp.memory import vocabulary_sizes

        sizes = vocabulary_sizes(config)
        problem = None if sizes is None else self.refusal(sizes[1])
        if problem is not None:
            return "model.max_items", problem, self.max_items
        return super().unsupported(config)


def ease_weights(matrix: Any, l2: float) -> np.ndarray:
    """Steck's ``B`` (float32, zero diagonal) for the users x items matrix ``matrix``:
    ``G`` inverted in place by its Cholesky factor (LAPACK potrf + potri)."""
    from scipy.linalg import lapack

    gram = np.asarray((matrix.T @ matrix).toarray(), np.float64)
    gram[np.diag_indices_from(gram)] += l2
    # G is symmetric, so its transpose is the same matrix in Fortran order: LAPACK works in
    # place. It is positive definite for any l2 > 0: only a NaN makes info nonzero.
    factor, info = lapack.dpotrf(gram.T, lower=False, overwrite_a=True, clean=False)
    upper, info_inverse = lapack.dpotri(factor, lower=False, overwrite_c=True)
    if info or info_inverse:
        raise ValueError(
            f"ease: the Gram matrix cannot be inverted (LAPACK {info or info_inverse})"
        )
    inverse = np.triu(upper)  # potri fills the upper triangle only
    del factor, gram, upper
    inverse += np.triu(inverse, 1).T
    inverse /= -np.diag(inverse)  # column j divided by -P_jj
    np.fill_diagonal(inverse, 0.0)
    return inverse.astype(np.float32)


class EASERecommender(TopNRecommender):
    """Scores as ``interactions[users] @ weights`` (sparse rows times a dense matrix)."""

    family: ClassVar[str] = "ease"
    options: EASEOptions

    def __init__(self, options: EASEOptions, n_users: int, n_items: int) -> None:
        super().__init__(options, n_users, n_items)
        self.weights = np.zeros((self.n_items, self.n_items), np.float32)

    def fit_matrix(self, data: TrainData) -> None:
        self.weights = ease_weights(self.interactions, self.options.l2)

    def score_items(self, users: np.ndarray) -> np.ndarray:
        rows = self.interactions[np.asarray(users)].astype(np.float32)
        return np.asarray(rows @ self.weights, np.float32)

    def params(self) -> int:
        return int(self.weights.size)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"weights": self.weights}

    def restore(self, saved: Any) -> None:
        self.weights = saved["weights"]


@MODELS.register("ease", options=EASEOptions, help="EASE (Steck 2019): closed-form item-item")
def build_ease(options: EASEOptions, ctx: BuildContext) -> Recommender:
    problem = options.refusal(ctx.n_items)
    if problem is not None:
        raise ConfigError(problem, key="model.max_items", got=options.max_items)
    return EASERecommender(options, ctx.n_users, ctx.n_items)
