"""ensemble: the blend by hand, member options validated as their own, what it refuses."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from recexp.config import validate
from recexp.errors import ConfigError
from recexp.models.ensemble import EnsembleOptions, blend_weights

MEMBERS = [{"model": {"family": "mf", "dim": 4}}, {"model": {"family": "svdpp", "dim": 4}}]


def test_blend_weights_by_hand():
    rng = np.random.default_rng(0)
    stacked = rng.normal(size=(50, 2))
    target = 0.5 + 2.0 * stacked[:, 0] - 1.0 * stacked[:, 1]  # exactly linear
    np.testing.assert_allclose(blend_weights(stacked, target, "validation"), [0.5, 2, -1])
    np.testing.assert_allclose(blend_weights(stacked, target, "mean"), [0, 0.5, 0.5])
    np.testing.assert_allclose(blend_weights(stacked, target, [0.3, 0.7]), [0, 0.3, 0.7])
    # too few validation ratings to fit: equal weights
    np.testing.assert_allclose(blend_weights(stacked[:2], target[:2], "validation"), [0, 0.5, 0.5])


def test_members_are_validated_as_their_own_blocks():
    options = EnsembleOptions(members=MEMBERS)
    assert options.members[0].model.dim == 4 and options.members[1].model.family == "svdpp"
    with pytest.raises(ValidationError, match="unknown model family"):
        EnsembleOptions(members=[{"model": {"family": "nope"}}, *MEMBERS])
    with pytest.raises(ValidationError, match="cannot be a member"):
        EnsembleOptions(members=[{"model": {"family": "ensemble", "members": MEMBERS}}, *MEMBERS])
    with pytest.raises(ValidationError, match="one per member"):
        EnsembleOptions(members=MEMBERS, weights=[1.0])
    with pytest.raises(ValidationError):
        EnsembleOptions(members=MEMBERS[:1])


def test_a_member_setting_it_cannot_honour_is_one_line():
    spec = {"name": "x", "model": {"family": "ensemble", "members": MEMBERS}}
    validate(spec)
    bad = {**spec, "training": {"loss": "huber"}}
    with pytest.raises(ConfigError, match=r"model.members.1: training.loss: svdpp trains on"):
        validate(bad)
    per_member = {"name": "x", "model": {"family": "ensemble", "members": [
        MEMBERS[0], {**MEMBERS[1], "training": {"lr_scaling": "sqrt"}}]}}  # fmt: skip
    with pytest.raises(ConfigError, match=r"model.members.1: training.lr_scaling"):
        validate(per_member)
