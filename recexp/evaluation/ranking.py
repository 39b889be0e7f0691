"""Top-N evaluation: each evaluated user's items ranked by a model's ``score_items``,
cut at every k, scored against the user's held-out items (see
:mod:`recexp.evaluation.ranking_metrics` for the definitions).

The protocol (:class:`RankingProtocol`), built once per part from the dataset:

- **users**: those with training ratings and at least one relevant held-out item (a
  seeded sample of them with ``users: N``); cold-start users get no list to judge.
- **relevant**: the user's items in the part (val or test) that were seen in training,
  with a rating >= ``relevant.min_rating`` when one is set.
- **candidates**: ``unrated``, every item seen in training except the user's training
  items (and, for test, their validation items, as RecBole masks them): a full ranking.
  ``sampled``: the relevant items plus ``negatives`` items drawn uniformly (seeded) from
  the items the user never rated in any part: the NCF protocol.

Users are scored in batches (``batch_users``), so memory is one ``(batch, n_items)``
block, never users x items; the list-level measures (coverage, mean popularity and
novelty of what is recommended) accumulate over the batches.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from recexp.evaluation.options import RankingOptions
from recexp.evaluation.ranking_metrics import at_k, first_hit_rank, top_k
from recexp.evaluation.user_items import UserItems

#: ``score(user_codes) -> (len(users), n_items)`` scores, higher first
Scorer = Callable[[np.ndarray], np.ndarray]
SCORE_BYTES = 64 * 2**20  # the auto batch: about this many bytes of float32 scores


def users_per_batch(n_items: int) -> int:
    """Users scored at once: about :data:`SCORE_BYTES` of float32 scores, at least one."""
    return max(1, SCORE_BYTES // (4 * max(n_items, 1)))


@dataclass
class RankingProtocol:
    """Who is evaluated, what they may be recommended and what counts as a hit."""

    options: RankingOptions
    users: np.ndarray  # codes of the evaluated users
    relevant: UserItems
    excluded: UserItems  # never candidates: the user's training (and validation) items
    popularity: np.ndarray  # training ratings per item
    n_train_users: int
    seed: int
    never: UserItems | None = None  # sampled negatives avoid these (all the user's items)
    catalog: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # trained items

    @property
    def n_items(self) -> int:
        return len(self.popularity)

    def batch_size(self) -> int:
        b = self.options.batch_users
        return int(b) if b != "auto" else users_per_batch(self.n_items)

    def candidates(self, users: np.ndarray, relevant: np.ndarray, batch: int) -> np.ndarray:
        """The boolean ``(len(users), n_items)`` mask of what may be recommended."""
        allowed = self.catalog[None, :] & ~self.excluded.dense(users)
        if self.options.candidates == "unrated":
            return allowed | relevant
        assert self.never is not None
        pool = allowed & ~self.never.dense(users)
        rng = np.random.default_rng([self.seed, batch])
        draw = np.where(pool, rng.random(pool.shape), -1.0)
        n = min(self.options.negatives, self.n_items)
        picked = top_k(draw, n)
        sampled = np.zeros_like(pool)
        np.put_along_axis(sampled, picked, np.take_along_axis(pool, picked, axis=1), axis=1)
        return sampled | relevant

    def describe(self) -> dict[str, Any]:
        o = self.options
        return {
            "candidates": o.candidates,
            **({"negatives": o.negatives} if o.candidates == "sampled" else {}),
            "k": o.k,
            "min_rating": o.relevant.min_rating,
            "users": len(self.users),
            "sampled_users": o.users != "all",
        }


@dataclass
class RankingResult:
    """Mean metrics over the evaluated users, and each user's own (for paired tests)."""

    metrics: dict[str, float]
    per_user: dict[str, np.ndarray]  # "user" (codes) and one array per per-user metric
    seconds: float

    @property
    def users_per_second(self) -> float:
        return len(self.per_user["user"]) / max(self.seconds, 1e-9)


def evaluate_ranking(score: Scorer, protocol: RankingProtocol) -> RankingResult:
    """Rank every evaluated user's candidates by ``score`` and judge the lists."""
    start = time.perf_counter()
    ks = protocol.options.k
    users = protocol.users
    per_user: dict[str, list[np.ndarray]] = {}
    lists = _ListMeasures(protocol, ks)
    step = protocol.batch_size()
    for batch, begin in enumerate(range(0, len(users), step)):
        chunk = users[begin : begin + step]
        relevant = protocol.relevant.dense(chunk)
        candidates = protocol.candidates(chunk, relevant, batch)
        scores = np.where(candidates, np.asarray(score(chunk), np.float32), -np.inf)
        top = top_k(scores, max(ks))
        hits = np.take_along_axis(relevant, top, axis=1)
        valid = np.take_along_axis(candidates, top, axis=1)
        n_relevant = relevant.sum(axis=1)
        for k in ks:
            for name, values in at_k(hits, n_relevant, k).items():
                per_user.setdefault(f"{name}@{k}", []).append(values)
        per_user.setdefault("mrr", []).append(1.0 / first_hit_rank(scores, relevant))
        lists.add(top, valid)
    seconds = time.perf_counter() - start
    arrays = {name: np.concatenate(v) for name, v in per_user.items()}
    metrics = {name: float(v.mean()) for name, v in arrays.items()} if len(users) else {}
    metrics.update(lists.result())
    return RankingResult(metrics, {"user": users, **arrays}, seconds)


class _ListMeasures:
    """Coverage@k, mean popularity@k and novelty@k of the recommended lists."""

    def __init__(self, protocol: RankingProtocol, ks: list[int]) -> None:
        self.ks, self.protocol = ks, protocol
        self.shown = {k: np.zeros(protocol.n_items, bool) for k in ks}
        self.popularity = {k: 0.0 for k in ks}
        self.novelty = {k: 0.0 for k in ks}
        self.n = {k: 0 for k in ks}
        share = protocol.popularity / max(protocol.n_train_users, 1)
        self.information = -np.log2(np.clip(share, 1e-12, None))

    def add(self, top: np.ndarray, valid: np.ndarray) -> None:
        for k in self.ks:
            items = top[:, :k][valid[:, :k]]
            self.shown[k][items] = True
            self.popularity[k] += float(self.protocol.popularity[items].sum())
            self.novelty[k] += float(self.information[items].sum())
            self.n[k] += len(items)

    def result(self) -> dict[str, float]:
        catalog = max(int(self.protocol.catalog.sum()), 1)
        out: dict[str, float] = {}
        for k in self.ks:
            n = max(self.n[k], 1)
            out[f"coverage@{k}"] = float(self.shown[k].sum()) / catalog
            out[f"popularity@{k}"] = self.popularity[k] / n
            out[f"novelty@{k}"] = self.novelty[k] / n
        return out


def headline(metrics: dict[str, float], ks: list[int]) -> str:
    """``NDCG@10 0.1234  Recall@20 0.2345`` for the end-of-run line."""
    first, last = ks[0], ks[-1]
    parts = [("NDCG", f"ndcg@{first}"), ("Recall", f"recall@{last}")]
    return "  ".join(f"{label}@{key.split('@')[1]} {metrics[key]:.4f}" for label, key in parts)
