"""Side features as integer tables with one row per user or item code (for ``two_tower``).

:func:`encode_features` turns MovieLens-style frames (indexed by raw id; users: ``age``,
``gender``, ``occupation``, ``zip``; items: ``title``, ``year``, ``genres``) into the
``BuildContext.features`` dict::

    {"user": {"age": (n_users,), "gender": ..., "occupation": ..., "gender_x_age": ...},
     "item": {"title": (n_items, title_length), "genres": (n_items, max_genres)}}

Every array is int32 and 0 means unknown or padding: a code whose raw id has no row in
the frame, or a missing value, gets 0. A frame that is ``None``, a column it lacks or a
feature with no known value leaves that feature out; a tower with no features embeds
the id alone. The encodings follow seed 003 (keras-rs "Deep Recommenders"):

- ``age``: seed 003 fixes no boundaries; it learns ``AGE_BINS = 10`` bins from the data
  (``FeatureSpace.float_discretized(num_bins=10)``, a quantile ``Discretization``). Here
  the boundaries are the users' ages at quantiles 1/10 .. 9/10 (numpy ``inverted_cdf``:
  observed values), deduplicated, unless ``age_boundaries`` is given (e.g. the MovieLens
  1M groups ``[18, 25, 35, 45, 50, 56]``). id = 1 + number of boundaries <= age.
- ``gender``, ``occupation``: 1-based ids in sorted order of the values.
- ``gender_x_age``: the exact cross ``1 + (gender - 1) * n_age_buckets + (age - 1)``, 0
  when either is unknown (the seed hashes the cross into 20 bins; this one never collides).
- ``title``: as ``TextVectorization``'s defaults: lower case, punctuation stripped, split
  on whitespace; the vocabulary is the given items' tokens, most frequent first (ties
  alphabetical), 1-based, at most ``max_title_tokens`` (rarer tokens are dropped); each
  title is cut or padded with 0 to ``title_length`` (16, as the seed).
- ``genres``: 1-based ids in sorted order, padded with 0 to the most genres of any item.

``zip`` and ``year`` are not used: the seed uses neither (the year is a title token).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

AGE_BINS = 10
TITLE_LENGTH = 16
MAX_TITLE_TOKENS = 10_000
# keras.layers.TextVectorization's DEFAULT_STRIP_REGEX
_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,\-\./:;<=>?@\[\\\]^_`{|}~\']')


def encode_features(
    user_features: pd.DataFrame | None,
    item_features: pd.DataFrame | None,
    user_ids: Sequence[Any] | np.ndarray,
    item_ids: Sequence[Any] | np.ndarray,
    *,
    age_bins: int = AGE_BINS,
    age_boundaries: Sequence[float] | None = None,
    title_length: int = TITLE_LENGTH,
    max_title_tokens: int = MAX_TITLE_TOKENS,
) -> dict[str, dict[str, np.ndarray]]:
    """``{"user": {...}, "item": {...}}``: int32 feature arrays, row ``c`` for code ``c``.

    ``user_ids`` / ``item_ids`` are the raw ids in code order (code ``c`` is raw id
    ``user_ids[c]``); the frames are indexed by raw id.
    """
    users: dict[str, np.ndarray] = {}
    items: dict[str, np.ndarray] = {}
    if user_features is not None:
        frame = _aligned(user_features, user_ids)
        if "age" in frame:
            users["age"], n_buckets = bucketize_ages(frame["age"], age_bins, age_boundaries)
        if "gender" in frame:
            users["gender"] = vocabulary_ids(frame["gender"])
        if "occupation" in frame:
            users["occupation"] = vocabulary_ids(frame["occupation"])
        if "age" in users and "gender" in users:
            age, gender = users["age"], users["gender"]
            cross = 1 + (gender - 1) * n_buckets + (age - 1)
            users["gender_x_age"] = np.where((age > 0) & (gender > 0), cross, 0).astype("int32")
    if item_features is not None:
        frame = _aligned(item_features, item_ids)
        if "title" in frame:
            items["title"] = tokenize_titles(frame["title"], title_length, max_title_tokens)
        if "genres" in frame:
            items["genres"] = genre_ids(frame["genres"])
    return {
        "user": {name: a for name, a in users.items() if a.size and a.any()},
        "item": {name: a for name, a in items.items() if a.size and a.any()},
    }


def _aligned(frame: pd.DataFrame, ids: Sequence[Any] | np.ndarray) -> pd.DataFrame:
    """One row per code, in code order; ids missing from ``frame`` get an all-NA row."""
    frame = frame[~frame.index.duplicated(keep="first")]
    return frame.reindex(pd.Index(np.asarray(ids)))


def bucketize_ages(
    ages: pd.Series, bins: int = AGE_BINS, boundaries: Sequence[float] | None = None
) -> tuple[np.ndarray, int]:
    """Age bucket ids (0 = unknown) and the number of buckets (boundaries + 1)."""
    values = pd.to_numeric(ages, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    known = ~np.isnan(values)
    if boundaries is not None:
        edges = np.asarray(sorted(boundaries), dtype="float64")
    elif known.any():
        quantiles = np.arange(1, bins) / bins
        edges = np.unique(np.quantile(values[known], quantiles, method="inverted_cdf"))
    else:
        edges = np.zeros(0)
    bucket = np.searchsorted(edges, np.where(known, values, 0.0), side="right") + 1
    return np.where(known, bucket, 0).astype("int32"), len(edges) + 1


def vocabulary_ids(values: pd.Series) -> np.ndarray:
    """1-based ids of the distinct values in sorted order; missing or empty -> 0."""
    text = values.astype("string").str.strip()
    vocab = sorted(set(text.dropna()) - {""})
    lookup = {value: i + 1 for i, value in enumerate(vocab)}
    return text.map(lookup).fillna(0).to_numpy(dtype="int32")


def title_tokens(title: object) -> list[str]:
    """Lower-cased words with punctuation stripped (``"Cuckoo's Nest (1975)"`` ->
    ``["cuckoos", "nest", "1975"]``)."""
    if not isinstance(title, str):
        return []
    return _PUNCTUATION.sub("", title.lower()).split()


def tokenize_titles(
    titles: pd.Series, length: int = TITLE_LENGTH, max_tokens: int = MAX_TITLE_TOKENS
) -> np.ndarray:
    """``(n, length)`` token ids, 0-padded; vocabulary most frequent first, ties a..z."""
    tokenized = [title_tokens(t) for t in titles]
    counts = Counter(token for tokens in tokenized for token in tokens)
    ranked = sorted(counts, key=lambda token: (-counts[token], token))[:max_tokens]
    lookup = {token: i + 1 for i, token in enumerate(ranked)}
    out = np.zeros((len(tokenized), length), dtype="int32")
    for row, tokens in enumerate(tokenized):
        ids = [lookup[t] for t in tokens if t in lookup][:length]
        out[row, : len(ids)] = ids
    return out


def _genre_list(value: object) -> list[str]:
    if isinstance(value, str):
        return [g for g in value.split("|") if g]
    if isinstance(value, Iterable):
        return [str(g) for g in value]
    return []


def genre_ids(genres: pd.Series) -> np.ndarray:
    """``(n, max genres per item)`` 1-based genre ids in sorted order, 0-padded."""
    lists = [_genre_list(value) for value in genres]
    vocab = sorted({g for genres_ in lists for g in genres_})
    lookup = {g: i + 1 for i, g in enumerate(vocab)}
    out = np.zeros((len(lists), max((len(g) for g in lists), default=0)), dtype="int32")
    for row, names in enumerate(lists):
        out[row, : len(names)] = [lookup[g] for g in names]
    return out
