"""``popularity``: every user gets the items with the most training interactions first.

The floor every top-N table is read against (Cremonesi et al. 2010): an item's score is
the number of training users who interacted with it (rated it, or rated it at least
``min_rating``), the same for every user. It predicts no rating.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np

from recexp.models.base import MODELS, BuildContext
from recexp.models.protocol import Recommender
from recexp.models.topn import TopNOptions, TopNRecommender
from recexp.training.events import TrainData


class PopularityOptions(TopNOptions):
    """Items ranked by their number of training interactions, the same list for everyone."""

    family: Literal["popularity"] = "popularity"


class PopularityRecommender(TopNRecommender):
    """One count per item; :meth:`score_items` repeats it for every user."""

    family: ClassVar[str] = "popularity"

    def __init__(self, options: TopNOptions, n_users: int, n_items: int) -> None:
        super().__init__(options, n_users, n_items)
        self.counts = np.zeros(self.n_items, np.float32)

    def fit_matrix(self, data: TrainData) -> None:
        self.counts = np.asarray(self.interactions.sum(axis=0), np.float32).ravel()

    def score_items(self, users: np.ndarray) -> np.ndarray:
        return np.tile(self.counts, (len(users), 1))

    def arrays(self) -> dict[str, np.ndarray]:
        return {"counts": self.counts}

    def restore(self, saved: Any) -> None:
        self.counts = saved["counts"]


@MODELS.register(
    "popularity", options=PopularityOptions, help="most interacted-with items first (top-N floor)"
)
def build_popularity(options: PopularityOptions, ctx: BuildContext) -> Recommender:
    return PopularityRecommender(options, ctx.n_users, ctx.n_items)
