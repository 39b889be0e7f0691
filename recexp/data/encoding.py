"""Id encoding: raw user and item ids to dense int32 codes, learned on train by default.

Codes run from 0 to n-1 over the sorted ids. With ``dataset.vocabulary: train`` (the
default) the vocabulary is the training ids: ids that first appear in val or test get
code -1 (out of vocabulary). With ``vocabulary: all`` it is every id in the data (as
seed 002 builds it), so tables get a row for each; rows of ids without a training
rating stay untrained. Either way the model is never asked about a pair without
training ratings (:attr:`recexp.data.pipeline.Part.known`): it gets the fallback
prediction (global mean plus whatever bias is known).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

OOV = -1


@dataclass(frozen=True)
class IdEncoder:
    """Raw id <-> int32 code for one column (users or items)."""

    ids: pd.Index  # position = code

    @classmethod
    def fit(cls, raw: pd.Series | np.ndarray) -> IdEncoder:
        return cls(pd.Index(pd.unique(np.asarray(raw))).sort_values())

    def __len__(self) -> int:
        return len(self.ids)

    def transform(self, raw: pd.Series | np.ndarray) -> np.ndarray:
        return self.ids.get_indexer(pd.Index(np.asarray(raw))).astype(np.int32)

    def inverse(self, codes: np.ndarray) -> np.ndarray:
        return np.asarray(self.ids)[codes]
