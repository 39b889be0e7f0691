"""``dataset.vocabulary``: tables sized by training ids (default) or by every id (seed 002)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recexp.config import load_spec
from recexp.data.files import FileOptions
from recexp.data.pipeline import prepare

# 6 users x 4 items; the predefined split puts user 6 and item 40 only in the test file
TRAIN = "user,item,rating\n1,10,4\n2,10,3\n3,20,5\n4,20,2\n5,30,4\n1,30,3\n2,20,4\n"
TEST = "user,item,rating\n6,10,4\n1,40,2\n3,10,5\n"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, object]:
    (tmp_path / "train.csv").write_text(TRAIN)
    (tmp_path / "test.csv").write_text(TEST)
    split = {
        "strategy": "predefined",
        "train": tmp_path / "train.csv",
        "test": tmp_path / "test.csv",
    }
    return {"name": "file", "split": split}


def test_all_ids_get_codes_but_unseen_ones_keep_the_fallback(files: dict[str, object]) -> None:
    train_only = prepare(FileOptions(**files), seed=1)  # type: ignore[arg-type]
    every = prepare(FileOptions(**files, vocabulary="all"), seed=1)  # type: ignore[arg-type]
    assert (train_only.n_users, train_only.n_items) == (5, 3)
    assert (every.n_users, every.n_items) == (6, 4)
    assert train_only.test.user.tolist()[0] == -1 and every.test.user.tolist()[0] == 5
    # the same rows go to the model either way: user 6 and item 40 have no training rating
    assert every.test.known.tolist() == train_only.test.known.tolist() == [False, False, True]
    assert every.report["test_unknown"] == train_only.report["test_unknown"] == 2
    assert np.array_equal(every.user_counts(), [2, 2, 1, 1, 1, 0])


def test_parameter_count_grows_by_the_unseen_rows(tmp_path: Path, files: dict[str, object]) -> None:
    pytest.importorskip("keras")
    from recexp.models.build import build_recommender

    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "name: v\nmodel: {family: mf, dim: 3}\ndataset:\n"
        f"  name: file\n  split: {{strategy: predefined, train: {tmp_path}/train.csv, "
        f"test: {tmp_path}/test.csv}}\ntraining: {{early_stopping: null}}\n"
    )
    counts = {}
    for vocabulary in ("train", "all"):
        config = load_spec(spec, [f"dataset.vocabulary={vocabulary}"])
        model = build_recommender(config, prepare(config.dataset, config.seed))
        counts[vocabulary] = model.summary().params
    # mf: a 3-d vector and a bias per id: one more user and one more item = 2 x (3 + 1)
    assert counts["all"] - counts["train"] == 2 * (3 + 1)
    assert counts["train"] == (5 + 3) * (3 + 1), counts
