"""The ranking protocol of one part of a dataset (val or test): who is evaluated, what
is relevant, what is masked (see :mod:`recexp.evaluation.ranking` for the rules)."""

from __future__ import annotations

import numpy as np

from recexp.data.pipeline import Dataset, Part
from recexp.evaluation.options import RankingOptions
from recexp.evaluation.ranking import RankingProtocol
from recexp.evaluation.user_items import UserItems


def _pairs(part: Part, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    known = part.known if rows is None else part.known & rows
    return part.user[known], part.item[known]


def ranking_protocol(
    data: Dataset, part_name: str, options: RankingOptions, seed: int
) -> RankingProtocol:
    """The protocol for ``part_name`` (``"val"`` or ``"test"``) of ``data``."""
    n_users, n_items = data.n_users, data.n_items
    train, part = data.train, getattr(data, part_name)
    popularity = np.bincount(train.item, minlength=n_items)
    seen = UserItems.from_pairs(train.user, train.item, n_users, n_items)
    excluded = seen
    if part_name == "test":  # validation items are known to the user by test time
        excluded = seen.union(UserItems.from_pairs(*_pairs(data.val), n_users, n_items))
    threshold = options.relevant.min_rating
    good = None if threshold is None else part.rating >= threshold
    relevant = UserItems.from_pairs(*_pairs(part, good), n_users, n_items)
    users = np.flatnonzero((relevant.counts() > 0) & (seen.counts() > 0)).astype(np.int32)
    sample_seed = options.seed if options.seed is not None else seed
    if options.users != "all" and len(users) > options.users:
        rng = np.random.default_rng(sample_seed)
        users = np.sort(rng.choice(users, options.users, replace=False)).astype(np.int32)
    never = None
    if options.candidates == "sampled":
        never = excluded.union(UserItems.from_pairs(*_pairs(data.test), n_users, n_items))
        never = never.union(UserItems.from_pairs(*_pairs(data.val), n_users, n_items))
    return RankingProtocol(
        options=options,
        users=users,
        relevant=relevant,
        excluded=excluded,
        popularity=popularity,
        n_train_users=int((seen.counts() > 0).sum()),
        seed=sample_seed + (1 if part_name == "test" else 0),
        never=never,
        catalog=popularity > 0,
    )
