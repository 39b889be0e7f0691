"""``training.objective``: the negative sampler, the losses worked by hand, every id family
under an implicit objective on tiny data, the one-line refusals, and ``mirrored`` on two
logical CPUs against one device."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from recexp.config import load_spec
from recexp.errors import ConfigError
from recexp.training.objective_options import ObjectiveOptions

ROOT = Path(__file__).resolve().parents[2]

SPEC = """\
name: tiny-implicit
seed: 7
dataset: {name: synthetic, n_users: 60, n_items: 40, n_ratings: 1200}
model: {family: mf, dim: 8}
optimizer: {name: lazy_adam, learning_rate: 0.01}
training:
  batch_size: 128
  max_epochs: 2
  objective: {name: bce, negatives: 2}
"""


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "implicit.yaml"
    path.write_text(SPEC)
    return path


def _sampler(options: ObjectiveOptions, user, item, n_items: int):
    from recexp.training.negatives import NegativeSampler

    return NegativeSampler(options, np.asarray(user), np.asarray(item), n_items, seed=5)


def test_uniform_negatives_are_seeded_in_range_and_avoid_positives():
    import tensorflow as tf

    # user 0 has items 0 and 1 of 10 as positives: without redraws 20% of draws hit them
    user, item = np.zeros(2, np.int32), np.array([0, 1], np.int32)
    users = tf.zeros([2000, 1], tf.int32)
    items = tf.zeros([2000, 1], tf.int32)
    plain = _sampler(ObjectiveOptions(name="bce", exclude_positives=False), user, item, 10)
    kept = _sampler(ObjectiveOptions(name="bce"), user, item, 10)
    drawn = plain.draw(users, items, tf.constant(3, tf.int64)).numpy()
    assert drawn.shape == (2000, 4) and drawn.min() >= 0 and drawn.max() <= 9
    again = plain.draw(users, items, tf.constant(3, tf.int64)).numpy()
    other = plain.draw(users, items, tf.constant(4, tf.int64)).numpy()
    np.testing.assert_array_equal(drawn, again)  # seeded by (seed, draw number)
    assert (drawn != other).any()
    assert 0.15 < np.isin(drawn, [0, 1]).mean() < 0.25
    hits = np.isin(kept.draw(users, items, tf.constant(3, tf.int64)).numpy(), [0, 1]).mean()
    assert hits < 0.02  # after two redraws: 0.2 ** 3 = 0.008 expected


def test_popularity_negatives_follow_count_to_the_alpha():
    import tensorflow as tf

    item = np.repeat(np.arange(3), [1, 4, 16]).astype(np.int32)  # counts 1, 4, 16
    options = ObjectiveOptions(name="bpr", sampler="popularity", alpha=0.5, negatives=1)
    sampler = _sampler(options.model_copy(update={"exclude_positives": False}), item, item, 3)
    drawn = sampler.draw(tf.zeros([30000, 1], tf.int32), tf.zeros([30000, 1], tf.int32), 1)
    share = np.bincount(drawn.numpy().ravel(), minlength=3) / drawn.numpy().size
    np.testing.assert_allclose(share, np.array([1, 2, 4]) / 7, atol=0.01)  # sqrt of counts


def test_rows_are_blocks_positives_first_with_labels():
    import tensorflow as tf

    sampler = _sampler(ObjectiveOptions(name="bce", negatives=2), [0], [0], 5)
    x = {"user_input": tf.constant([[7], [8]]), "item_input": tf.constant([[1], [2]])}
    rows, y = sampler.rows(x, tf.constant([[3, 4], [0, 1]]))
    assert rows["user_input"].numpy().ravel().tolist() == [7, 8, 7, 8, 7, 8]
    assert rows["item_input"].numpy().ravel().tolist() == [1, 2, 3, 0, 4, 1]
    assert y.numpy().ravel().tolist() == [1, 1, 0, 0, 0, 0]


def test_bpr_and_sampled_softmax_losses_by_hand():
    from recexp.training.negatives import BPRLoss, SampledSoftmaxLoss

    # B = 2 positives scored 2.0 and 0.5; one negative each, scored -1.0 and 1.0
    scores = np.array([[2.0], [0.5], [-1.0], [1.0]], np.float32)
    softplus = lambda v: math.log1p(math.exp(v))  # noqa: E731
    want = (softplus(-1.0 - 2.0) + softplus(1.0 - 0.5)) / 2
    assert float(BPRLoss(1)(np.zeros_like(scores), scores)) == pytest.approx(want, rel=1e-6)
    # log Q of each row: positives' 0, negatives' log 0.5 (logits s - log Q)
    log_q = np.array([[0.0], [0.0], [math.log(0.5)], [math.log(0.5)]], np.float32)
    first = -math.log(math.exp(2.0) / (math.exp(2.0) + math.exp(-1.0 - math.log(0.5))))
    second = -math.log(math.exp(0.5) / (math.exp(0.5) + math.exp(1.0 - math.log(0.5))))
    got = float(SampledSoftmaxLoss(1)(log_q, scores))
    assert got == pytest.approx((first + second) / 2, rel=1e-6)


@pytest.mark.parametrize(
    ("family", "objective"),
    [
        ("mf", "bce"),
        ("gmf", "bpr"),
        ("mlp", "sampled_softmax"),
        ("neumf", "bce"),
        ("two_tower", "bpr"),
        ("mf", "{name: sampled_softmax, sampler: in_batch, negatives: 3}"),
    ],
)
def test_every_id_family_trains_under_an_implicit_objective(spec, tmp_path, family, objective):
    from recexp.experiment import run_experiment
    from recexp.models.protocol import Recommender

    config = load_spec(spec, [f"model={{family: {family}}}", f"training.objective={objective}"])
    assert config.training.early_stopping.monitor == "val_ndcg@10"  # the implicit default
    run = run_experiment(config, tmp_path / "runs", quiet=True)
    metrics = json.loads((run.path / "metrics.json").read_text())
    assert metrics["predicts_ratings"] is False and metrics["test"].get("rmse") is None
    assert 0 < metrics["test"]["ranking"]["ndcg@10"] <= 1
    assert metrics["epochs_run"] == 2 and metrics["ratings_per_second"] > 0
    loaded = Recommender.load(run.path)
    assert loaded.predicts_ratings is False
    users = np.arange(3, dtype=np.int32)
    np.testing.assert_allclose(loaded.score_items(users).shape, (3, loaded.n_items))


@pytest.mark.parametrize(
    ("overrides", "line"),
    [
        (
            ["model={family: autorec}"],
            "training.objective.name: bce trains the id families (gmf, mf, mlp, neumf, "
            "two_tower), not autorec (got 'bce')",
        ),
        (
            ["training.engine=keras"],
            "training.engine: bce draws its negatives in engine: compiled (got 'keras')",
        ),
        (
            ["model.output=sigmoid_scaled"],
            "model.output: an implicit objective trains a score (logit): set output: linear "
            "(got 'sigmoid_scaled')",
        ),
        (
            ["training.early_stopping.monitor=val_rmse"],
            "training.early_stopping.monitor: bce predicts scores, not ratings: monitor "
            "val_ndcg@10 or loss (got 'val_rmse')",
        ),
        (
            ["training.objective.sampler=in_batch", "training.batch_size=2"],
            "training.batch_size: in_batch negatives need batch_size above negatives (2) (got 2)",
        ),
        (
            ["training.objective.name=softmax"],
            "training.objective.name: input should be 'rating', 'bce', 'bpr' or "
            "'sampled_softmax' (got 'softmax')",
        ),
    ],
)
def test_refusals_are_one_line(spec, overrides, line):
    with pytest.raises(ConfigError) as error:
        load_spec(spec, overrides)
    assert str(error.value) == f"{spec}: {line}"


def test_rating_objective_is_the_default_and_keeps_val_rmse(spec):
    config = load_spec(spec, ["training.objective=rating"])
    assert config.training.early_stopping.monitor == "val_rmse"
    assert not config.training.objective.implicit


def test_mirrored_on_two_logical_cpus_matches_one_device_for_each_objective(spec, tmp_path):
    subprocess.run(
        [sys.executable, "-m", "tests.training.distribute_jobs", "mirrored-objectives"]
        + [str(spec), str(tmp_path), "bce", "bpr", "sampled_softmax"],
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"},
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    for objective in ("bce", "bpr", "sampled_softmax"):
        pair = [json.loads(next(tmp_path.glob(f"*-{objective}-{s}")).joinpath("metrics.json")
                .read_text()) for s in ("mirrored", "none")]  # fmt: skip
        mirrored, single = pair
        assert mirrored["epochs_run"] == single["epochs_run"]
        got, want = mirrored["test"]["ranking"], single["test"]["ranking"]
        assert got["ndcg@10"] == pytest.approx(want["ndcg@10"], abs=1e-4), objective


def test_sparse_tables_and_rowwise_optimizer_under_bpr(spec, tmp_path):
    """Quotient-remainder users, mixed-dim items, per-row L2 and row-wise Adagrad: the
    negatives' rows are looked up like any other and their updates stay sparse."""
    from recexp.experiment import run_experiment

    overrides = [
        "model={family: gmf, dim: 8, embedding_l2: 0.01, embedding_l2_per: row}",
        "embedding.user={strategy: quotient_remainder, num_buckets: 12}",
        "embedding.item={strategy: mixed_dim, blocks: [20, 10], dims: [8, 4, 2]}",
        "optimizer={name: rowwise_adagrad, learning_rate: 0.1}",
        "training.objective={name: bpr, negatives: 3, sampler: popularity}",
    ]
    run = run_experiment(load_spec(spec, overrides), tmp_path / "runs", quiet=True)
    metrics = json.loads((run.path / "metrics.json").read_text())
    assert 0 < metrics["test"]["ranking"]["ndcg@10"] <= 1 and metrics["epochs_run"] == 2
