"""``training.distribute`` in the spec, its checks, and who this process is in a cluster.

No TensorFlow here: ``recexp validate`` refuses what cannot run under a strategy, and the
cluster task is read from the standard ``TF_CONFIG`` environment variable as JSON. The
strategies themselves are made in :mod:`recexp.training.distribute`.

What is refused, and why (Keras 3.15, TensorFlow 2.21):

* ``parameter_server``: Keras 3 has no parameter-server training. ``model.fit`` has no
  ``ClusterCoordinator`` path, and a table that a variable partitioner shards across the
  servers (a ``ShardedVariable`` inside the Keras variable) breaks Keras' own
  ``train_step``: the gradient tape asks the variable for one ``handle`` and a
  ``ShardedVariable`` has none; the optimizer's slots are not sharded either.
  ``tests/training/test_distribute.py`` builds such a model on a local cluster and checks
  both facts, so the refusal is lifted when a Keras version fixes them.
* ``multi_worker`` with ``engine: keras``: Keras 3.15's ``fit`` under
  ``MultiWorkerMirroredStrategy`` fails before the first step (it reduces the per-replica
  int inputs to build the model, then concatenates scalar logs across workers); the
  compiled engine runs the same ``train_step`` under the strategy and works.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, PositiveInt

from recexp.errors import ConfigError
from recexp.schema import Options

if TYPE_CHECKING:
    from recexp.config import TrainingOptions

STRATEGIES = ("none", "mirrored", "multi_worker", "parameter_server")

PARAMETER_SERVER_REFUSED = (
    "parameter_server is not supported with Keras 3: model.fit has no ClusterCoordinator "
    "and Keras' train_step cannot take gradients of a table sharded across parameter "
    "servers (ShardedVariable has no handle); use mirrored or multi_worker"
)
MULTI_WORKER_KERAS_REFUSED = (
    "multi_worker is not supported with training.engine: keras (Keras 3.15's fit fails on "
    "per-replica inputs under MultiWorkerMirroredStrategy); use engine: compiled"
)


class DistributeOptions(Options):
    """Where training runs: one device, the local devices, or a cluster of workers.

    The spec's ``training.batch_size`` is the global batch: each of N replicas computes
    the gradient of ``batch_size / N`` ratings and the gradients are summed.
    """

    strategy: Literal["none", "mirrored", "multi_worker", "parameter_server"] = Field(
        "none",
        description="none: one device; mirrored: the local GPUs (or N logical CPU devices); "
        "multi_worker: the machines in TF_CONFIG; parameter_server: refused with Keras 3",
    )
    devices: PositiveInt | None = Field(
        None,
        description="mirrored: how many devices (default all GPUs; with no GPU, N logical "
        "CPU devices, default 2)",
    )
    ps_shards: PositiveInt | None = Field(
        None,
        description="parameter_server: shards per table (default: by min_shard_bytes, at "
        "most one per server)",
    )
    min_shard_bytes: PositiveInt = Field(
        256 << 10, description="parameter_server: the smallest shard a table is cut into"
    )


def check_distribute(training: TrainingOptions) -> None:
    """One :class:`ConfigError` line for a distribution the rest of the spec cannot run."""
    d = training.distribute
    key = "training.distribute.strategy"
    if d.strategy == "parameter_server":
        raise ConfigError(PARAMETER_SERVER_REFUSED, key=key, got=d.strategy)
    if d.strategy == "multi_worker" and training.engine == "keras":
        raise ConfigError(MULTI_WORKER_KERAS_REFUSED, key=key, got=d.strategy)
    if d.devices is not None and d.strategy != "mirrored":
        raise ConfigError(
            "devices is for strategy: mirrored only (a cluster's size is in TF_CONFIG)",
            key="training.distribute.devices",
            got=d.devices,
        )


# --- the cluster, from TF_CONFIG -------------------------------------------------------------


def tf_config() -> dict[str, Any]:
    """``TF_CONFIG`` as a dict (``{}`` when unset); a malformed one is one line."""
    text = os.environ.get("TF_CONFIG", "").strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"TF_CONFIG is not JSON: {e.msg}", key="TF_CONFIG") from None
    if not isinstance(value, dict) or "cluster" not in value or "task" not in value:
        raise ConfigError('TF_CONFIG needs "cluster" and "task"', key="TF_CONFIG", got=text)
    return value


def is_chief(options: DistributeOptions) -> bool:
    """Whether this process writes the run directory: always, except on a multi-worker
    cluster's non-chief workers (the chief is task ``chief``, else ``worker`` 0)."""
    if options.strategy != "multi_worker":
        return True
    config = tf_config()
    if not config:
        return True
    task = config["task"]
    kind, index = task.get("type"), int(task.get("index", 0))
    if "chief" in config["cluster"]:
        return bool(kind == "chief")
    return kind == "worker" and index == 0


@contextmanager
def runs_root_for(options: DistributeOptions, runs_root: str | Path) -> Iterator[Path]:
    """``runs_root`` on the chief; on another worker a scratch directory, removed at the
    end, so that only the chief leaves a run directory (every worker runs the same code)."""
    if is_chief(options):
        yield Path(runs_root)
        return
    scratch = Path(tempfile.mkdtemp(prefix="recexp-worker-"))
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
