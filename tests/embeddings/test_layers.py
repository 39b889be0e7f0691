"""Every embedding layer: its config holds every argument, it saves and reloads, it reports."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from recexp.embeddings import EMBEDDINGS
from recexp.embeddings.layers.hashing import collisions

from ..helpers import assert_save_reload_same
from .cases import COUNTS, VARIANTS, build, request


@pytest.mark.parametrize("name", [n for n in VARIANTS if n != "full"])
def test_layer_config_has_every_argument(name):
    layer = build(VARIANTS[name], request(8, 8, COUNTS))
    args = set(inspect.signature(type(layer).__init__).parameters) - {"self", "kwargs"}
    config = layer.get_config()
    assert args <= set(config)
    clone = type(layer).from_config(config)
    assert clone.get_config() == config


@pytest.mark.parametrize("name", list(VARIANTS))
def test_layer_save_and_load(name, tmp_path):
    x = np.array([[0, 7], [3, 2], [5, 5]], dtype="int32")
    before = assert_save_reload_same(build(VARIANTS[name], request(8, 8, COUNTS)), x, tmp_path)
    assert before.shape == (3, 2, 8)


def test_every_layer_is_an_embedding_table():
    import recexp.embeddings.layers as layers

    classes = [getattr(layers, name) for name in layers.__all__ if name != "EmbeddingTable"]
    for cls in classes:
        assert issubclass(cls, layers.EmbeddingTable), cls.__name__
        assert cls.table_report is not layers.EmbeddingTable.table_report, cls.__name__
    # one layer per registered strategy, named by its strategy
    assert sorted(cls.strategy for cls in classes) == EMBEDDINGS.names()
    with pytest.raises(NotImplementedError, match="must implement table_report"):
        layers.EmbeddingTable().table_report()


# rows each variant stores for 8 ids (COUNTS), dim 8
ROWS = {
    "full": 8,
    "quotient_remainder": 4 + 4,  # keras_io sizing: as many quotient rows as buckets
    "mixed_dim": 3 + 4 + 4,  # blocks of 2, 3, 3 ids, each with keras_io's spare row
    "hashing": 5,  # num_bins
    "quotient_remainder-frequency": 3 + 3,  # compact: ceil(8 / 3) quotient rows
    # block 2 (3 ids + spare) stored in 3 // 2 = 1 remainder row and 4 quotient rows
    "mixed_dim-qr": 3 + 4 + (4 + 1),
}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_layer_reports_its_table_before_it_is_built(name):
    layer = build(VARIANTS[name], request(8, 8, COUNTS))
    report = layer.table_report()
    assert not layer.built
    strategy = name.split("-")[0]
    assert report["strategy"] == strategy == layer.strategy
    assert (report["vocabulary"], report["rows"], report["dim"]) == (8, ROWS[name], 8)
    extras = set(report) - {"strategy", "vocabulary", "rows", "dim"}
    if strategy == "hashing":
        assert {k: report[k] for k in extras} == collisions(8, 5, salt=1)
    elif strategy == "mixed_dim":
        assert report["block_sizes"] == [2, 3, 3] and report["block_dims"] == [8, 4, 2]
        assert sum(report["block_rows"]) == ROWS[name]
        assert report.get("block_buckets") == ([0, 0, 1] if name == "mixed_dim-qr" else None)
    else:
        assert not extras
