"""Embedding strategies: options, block/bucket arithmetic by hand, one-line errors, families."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from pydantic import ValidationError

from recexp.embeddings import EMBEDDINGS
from recexp.embeddings.mixed_dim import (
    MixedDimOptions,
    alpha_power_dims,
    assign_blocks,
    equal_mass_sizes,
    plan_blocks,
)
from recexp.embeddings.quotient_remainder import QuotientRemainderOptions, resolve_buckets
from recexp.errors import ConfigError

from ..helpers import assert_save_reload_same
from .cases import COUNTS, STRATEGIES, build, context, request


def one_line_error(excinfo: pytest.ExceptionInfo) -> tuple[tuple, str]:
    first = excinfo.value.errors()[0]
    return first["loc"], first["msg"]


def test_registry_fills_without_keras():
    code = (
        "import sys, recexp.embeddings as e; "
        "assert e.EMBEDDINGS.names() == ['full', 'hashing', 'mixed_dim', 'quotient_remainder']; "
        "assert 'keras' not in sys.modules and 'tensorflow' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- quotient_remainder --------------------------------------------------------------------


def test_qr_keras_io_sizing_and_default_buckets():
    # seed 002: 6040 users, compression 50 -> 120 buckets, two 120-row tables
    assert resolve_buckets(QuotientRemainderOptions(compression=50), request(6040)) == (120, 120)
    assert resolve_buckets(
        QuotientRemainderOptions(num_buckets=120, sizing="compact"), request(6040)
    ) == (120, 51)
    assert resolve_buckets(QuotientRemainderOptions(), request(10)) == (4, 4)  # ceil(sqrt 10)


def test_qr_too_few_buckets_is_one_line_config_error():
    with pytest.raises(ConfigError) as err:
        build(QuotientRemainderOptions(num_buckets=3), request(10, table="user"))
    assert str(err.value) == (
        "embedding.user.num_buckets: 3 buckets give 10 ids 4 quotients but sizing keras_io "
        "keeps 3 quotient rows, so ids would share vectors; use num_buckets >= 4 or "
        "sizing: compact (got 3)"
    )
    with pytest.raises(ConfigError, match=r"compression: compression leaves no bucket .* \(got 50"):
        build(QuotientRemainderOptions(compression=50), request(10))
    with pytest.raises(ConfigError, match="num_buckets: more buckets than the 10 ids"):
        build(QuotientRemainderOptions(num_buckets=11, sizing="compact"), request(10))


def test_qr_bad_options():
    with pytest.raises(ValidationError) as err:
        QuotientRemainderOptions(num_buckets=4, compression=2)
    assert one_line_error(err)[1] == (
        "Value error, give num_buckets or compression, not both "
        "(got num_buckets=4, compression=2.0)"
    )
    with pytest.raises(ValidationError, match="combiner concat needs an even dim"):
        QuotientRemainderOptions(combiner="concat", dim=7)
    with pytest.raises(ConfigError, match="combiner: combiner concat needs an even dim"):
        build(QuotientRemainderOptions(combiner="concat"), request(10, dim=7))


# --- mixed_dim -----------------------------------------------------------------------------


def test_mixed_dim_blocks_follow_training_frequency():
    # blocks of 2 and 3 ids, the rest last: {0, 3} | {4, 1, 5} | {6, 2, 7}
    block = assign_blocks(COUNTS, 8, [2, 3, 3])
    assert block.tolist() == [0, 1, 2, 0, 1, 1, 2, 2]
    # blocks of 2 and 5 would put unrated item 2 in block 1: it goes to the last block
    block = assign_blocks(COUNTS, 8, [2, 5, 1])
    assert block.tolist() == [0, 1, 2, 0, 1, 1, 1, 2]
    # no counts: id order
    assert assign_blocks(None, 5, [2, 3]).tolist() == [0, 0, 1, 1, 1]


def test_mixed_dim_alpha_rule_by_hand():
    # 20 ratings in 2 blocks of ~10: item 0 alone holds 10, so sizes 1 and 7
    assert equal_mass_sizes(COUNTS, 8, 2) == [1, 7]
    # 8 * (1 / 7) ** 0.5 = 3.02 -> 3
    assert alpha_power_dims([1, 7], 8, 0.5) == [8, 3]
    # 3 blocks: cuts at 20/3 (after item 0) and 40/3 (after item 3): sizes 1, 1, 6
    assert equal_mass_sizes(COUNTS, 8, 3) == [1, 1, 6]
    # 16 * (1/6) ** 0.5 = 6.53 -> 7; (1/6) ** 1 * 16 = 2.67 -> 3; tiny blocks keep >= 1 column
    assert alpha_power_dims([1, 1, 6], 16, 0.5) == [16, 16, 7]
    assert alpha_power_dims([1, 6], 16, 1.0) == [16, 3]
    assert alpha_power_dims([1, 1000], 4, 1.0) == [4, 1]
    block, dims = plan_blocks(MixedDimOptions(num_blocks=2, alpha=0.5), request(8, 8, COUNTS), 8)
    assert block.tolist() == [0, 1, 1, 1, 1, 1, 1, 1]
    assert dims == [8, 3]


def test_mixed_dim_bad_settings():
    with pytest.raises(ValidationError) as err:
        MixedDimOptions(blocks=[2, 3], dims=[8, 8, 2])
    assert one_line_error(err) == (
        ("dims",),
        "Value error, dims must decrease from each block to the next",
    )
    with pytest.raises(ValidationError) as err:
        MixedDimOptions(alpha=-0.5)
    assert one_line_error(err) == (("alpha",), "Value error, alpha must be >= 0")
    with pytest.raises(ValidationError, match="dims needs one entry per block: 2 blocks"):
        MixedDimOptions(blocks=[2, 3], dims=[8, 4])
    with pytest.raises(ValidationError, match="give blocks with dims, or alpha with num_blocks"):
        MixedDimOptions(blocks=[2], dims=[8, 4], alpha=0.3)
    with pytest.raises(ValidationError, match="blocks and dims go together"):
        MixedDimOptions(blocks=[2])
    with pytest.raises(ValidationError, match=r"qr_compression needs one entry per block \(3\)"):
        MixedDimOptions(blocks=[2, 3], dims=[8, 4, 2], qr_compression=[1, 4])
    with pytest.raises(ValidationError, match=r"qr_compression needs one entry per block \(2\)"):
        MixedDimOptions(num_blocks=2, qr_compression=[1, 1, 4])
    with pytest.raises(ValidationError) as err:
        MixedDimOptions(blocks=[2], dims=[8, 4], qr_compression=[1, 0.5])
    assert one_line_error(err) == (
        ("qr_compression",),
        "Value error, each qr_compression must be >= 1 (1 = plain rows)",
    )
    with pytest.raises(ConfigError) as cerr:
        build(MixedDimOptions(blocks=[5, 3], dims=[8, 4, 2]), request(8, 8, COUNTS))
    assert str(cerr.value) == (
        "embedding.item.blocks: blocks hold 8 ids but the item vocabulary has 8, "
        "leaving none for the last block (got [5, 3])"
    )
    with pytest.raises(
        ConfigError, match=r"embedding.item.dims: dims may not exceed the base dim 4"
    ):
        build(MixedDimOptions(blocks=[5], dims=[8, 2]), request(8, 4, COUNTS))
    with pytest.raises(ConfigError, match="num_blocks: more blocks than the 8 ids"):
        build(MixedDimOptions(num_blocks=9), request(8, 4, COUNTS))


def test_mixed_dim_defaults_and_base_dim_alias():
    options = MixedDimOptions.model_validate({"strategy": "mixed_dim", "base_dim": 32})
    assert (options.dim, options.alpha, options.num_blocks) == (32, 0.5, 3)
    assert MixedDimOptions.model_validate(options.model_dump()) == options


# --- every strategy, inside the model families ---------------------------------------------


def test_every_registered_strategy_is_covered():
    assert sorted(STRATEGIES) == EMBEDDINGS.names()


@pytest.mark.parametrize("family", ["mf", "neumf"])
@pytest.mark.parametrize("name", [n for n in STRATEGIES if n != "full"])
def test_fit_one_epoch_in_family_and_reload(family, name, tmp_path):
    from recexp.models import MODELS

    entry = MODELS.get(family)
    dims = {"dim": 8} if family == "mf" else {"gmf_dim": 8, "mlp_dim": 8, "mlp_layers": [8]}
    user_counts = np.bincount(np.arange(96) % 12, minlength=12)
    strategy = STRATEGIES[name]
    if name == "mixed_dim":  # fewer weights, so a faster compile; 3 blocks are tested above
        # the rare block stored with the quotient-remainder trick (QR and MD together)
        strategy = MixedDimOptions(blocks=[3], dims=[8, 4], sizing="compact", qr_compression=[1, 2])
    assert entry.options is not None
    model = entry.fn(entry.options(**dims), context(strategy, strategy, user_counts=user_counts))
    rng = np.random.default_rng(0)
    x = {
        "user_input": (np.arange(96) % 12).reshape(-1, 1).astype("int32"),
        "item_input": rng.choice(8, size=(96, 1), p=COUNTS / COUNTS.sum()).astype("int32"),
    }
    y = rng.integers(1, 6, size=(96, 1)).astype("float32")
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert_save_reload_same(model, x, tmp_path)
