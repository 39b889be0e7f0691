"""The ``tf.distribute`` strategy a spec's ``training.distribute`` asks for (imports TF).

One strategy per process, made on first use and kept: TensorFlow allows one
``MultiWorkerMirroredStrategy`` per process, and the logical CPU devices of ``mirrored``
can be set only before TensorFlow initialises its devices. The model is built and
compiled in the strategy's scope (``recexp.models.build``); Keras remembers the strategy
in ``model.distribute_strategy`` and the fit loop runs each step under it.

* ``none``: TensorFlow's default strategy (one device, no replicas).
* ``mirrored``: ``MirroredStrategy`` over the local GPUs (``devices`` of them, default
  all); with no GPU, over ``devices`` (default 2) logical CPU devices made with
  ``tf.config.set_logical_device_configuration`` -- the same code path as GPUs, useful
  to test, not faster (they share the same cores).
* ``multi_worker``: ``MultiWorkerMirroredStrategy`` on the cluster in ``TF_CONFIG``;
  every worker runs the same ``recexp train`` and holds all the data, each replica
  takes its share of every global batch, the gradients are all-reduced (sparse ones
  all-gathered as ``IndexedSlices``).
* ``parameter_server``: refused at validation (see
  :mod:`recexp.training.distribute_options`); :func:`parameter_server_strategy` is
  what it would run on: tables sharded across the servers by a variable partitioner.
"""

from __future__ import annotations

import contextlib
from typing import Any

import tensorflow as tf

from recexp.errors import ConfigError
from recexp.training.distribute_options import DistributeOptions, tf_config

DEFAULT_CPU_REPLICAS = 2
_strategies: dict[tuple[str, int | None], Any] = {}


def strategy_for(options: DistributeOptions) -> Any:
    """The process's strategy for ``options`` (made once, then reused)."""
    key = (options.strategy, options.devices)
    if key not in _strategies:
        if options.strategy == "none":
            _strategies[key] = tf.distribute.get_strategy()
        elif options.strategy == "mirrored":
            _strategies[key] = mirrored_strategy(options.devices)
        elif options.strategy == "multi_worker":
            _strategies[key] = multi_worker_strategy()
        else:
            raise ConfigError(
                "no strategy for this process", key="training.distribute.strategy", got=key[0]
            )
    return _strategies[key]


def mirrored_strategy(devices: int | None = None) -> Any:
    """``MirroredStrategy`` over ``devices`` local GPUs, or logical CPUs without a GPU."""
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        n = devices or len(gpus)
        if n > len(gpus):
            raise ConfigError(
                f"this machine has {len(gpus)} GPU(s)", key="training.distribute.devices", got=n
            )
        names = [f"/gpu:{i}" for i in range(n)]
    else:
        names = logical_cpus(devices or DEFAULT_CPU_REPLICAS)
    # Reduction to one device sums IndexedSlices by concatenating them: sparse gradients of
    # different lengths per replica (quotient-remainder, mixed-dim blocks, a short last
    # batch) stay sparse. The default collective all-gather pads them to one length inside
    # a cond, and inside the compiled engine's while loop its replicas fall out of step
    # ("shape mismatch in the collective instance").
    return tf.distribute.MirroredStrategy(
        names, cross_device_ops=tf.distribute.ReductionToOneDevice()
    )


def logical_cpus(n: int) -> list[str]:
    """Names of ``n`` logical CPU devices, splitting the first CPU if TF has not started."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    with contextlib.suppress(RuntimeError):  # devices already initialised: use what there is
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(n)]
        )
    have = len(tf.config.list_logical_devices("CPU"))
    if have < n:
        raise ConfigError(
            f"TensorFlow already started with {have} CPU device(s) in this process; "
            "logical devices must be set before it starts (run in a new process)",
            key="training.distribute.devices",
            got=n,
        )
    return [f"/cpu:{i}" for i in range(n)]


def multi_worker_strategy() -> Any:
    """``MultiWorkerMirroredStrategy`` on the cluster that ``TF_CONFIG`` describes."""
    if not tf_config():
        raise ConfigError(
            "multi_worker needs the TF_CONFIG environment variable (cluster and task); see "
            "the README, 'More than one device'",
            key="training.distribute.strategy",
            got="multi_worker",
        )
    return tf.distribute.MultiWorkerMirroredStrategy()


def strategy_scope(options: DistributeOptions) -> Any:
    """The context to build and compile a model in: the strategy's scope, or nothing for
    ``none`` (so a single-device model is exactly what it was without this block)."""
    if options.strategy == "none":
        return contextlib.nullcontext()
    return strategy_for(options).scope()


def replicas(strategy: Any) -> int:
    """How many replicas share each global batch."""
    return int(strategy.num_replicas_in_sync)


def parameter_server_strategy(resolver: Any, options: DistributeOptions) -> Any:
    """``ParameterServerStrategy`` whose variables are sharded across the servers.

    ``options.ps_shards`` fixes the shards per variable (``FixedShardsPartitioner``);
    otherwise ``MinSizePartitioner`` cuts a variable into shards of at least
    ``options.min_shard_bytes``, at most one per server. Validation refuses the strategy
    for training with Keras 3; tests use this to show why.
    """
    partitioners = tf.distribute.experimental.partitioners
    servers = len(resolver.cluster_spec().as_dict().get("ps", []))
    if options.ps_shards:
        partitioner = partitioners.FixedShardsPartitioner(options.ps_shards)
    else:
        partitioner = partitioners.MinSizePartitioner(
            min_shard_bytes=options.min_shard_bytes, max_shards=max(1, servers)
        )
    return tf.distribute.experimental.ParameterServerStrategy(
        resolver, variable_partitioner=partitioner
    )
