"""Jobs test_distribute.py runs in a fresh process (``python -m tests.training.distribute_jobs``).

A fresh process because ``mirrored`` on one CPU needs its logical devices set before
TensorFlow starts, and a ParameterServerStrategy connects the process to its cluster.

* ``mirrored SPEC ROOT``: trains SPEC with ``mirrored`` (2 logical CPUs), then ``none``.
* ``mirrored-objectives SPEC ROOT OBJECTIVE...``: the same for each training objective.
* ``parameter-server``: a local cluster (2 workers, 2 parameter servers, in-process
  servers on 127.0.0.1), recexp's mf built under ParameterServerStrategy; prints JSON:
  how the item table is sharded and what Keras' train_step says when asked to train it.
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path


def mirrored_then_none(spec: str, root: str) -> None:
    from recexp.config import load_spec
    from recexp.parents import train

    for strategy in ("mirrored", "none"):  # mirrored first: its devices precede TF's start
        overrides = [f"training.distribute.strategy={strategy}", f"name=tiny-{strategy}"]
        train(load_spec(spec, overrides), Path(root), quiet=True)


def mirrored_then_none_each(spec: str, root: str, objectives: list[str]) -> None:
    """``mirrored_then_none`` for each training objective (one process: the logical
    devices are set once, before TensorFlow starts)."""
    from recexp.config import load_spec
    from recexp.parents import train

    for objective in objectives:
        for strategy in ("mirrored", "none"):
            overrides = [f"training.distribute.strategy={strategy}"]
            overrides += [f"training.objective.name={objective}", f"name={objective}-{strategy}"]
            train(load_spec(spec, overrides), Path(root), quiet=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def parameter_server() -> None:
    import keras
    import numpy as np
    import tensorflow as tf

    from recexp.models.base import BuildContext
    from recexp.models.build import make_recommender
    from recexp.models.mf import MFOptions
    from recexp.training.distribute import parameter_server_strategy
    from recexp.training.distribute_options import DistributeOptions
    from recexp.training.optimizers import AdamOptions

    cluster = {k: [f"127.0.0.1:{free_port()}" for _ in range(2)] for k in ("worker", "ps")}
    servers = [  # noqa: F841 (the servers live as long as these objects)
        tf.distribute.Server(tf.train.ClusterSpec(cluster), job_name=job, task_index=i)
        for job in ("worker", "ps")
        for i in range(2)
    ]
    cluster["chief"] = [f"127.0.0.1:{free_port()}"]
    resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
        tf.train.ClusterSpec(cluster), rpc_layer="grpc", task_type="chief", task_id=0
    )
    # 2,000 items x 32 floats = 256 KB, a shard at least 64 KB: more than one server's share
    options = DistributeOptions(min_shard_bytes=64 << 10)
    strategy = parameter_server_strategy(resolver, options)
    from recexp.config import TrainingOptions
    from recexp.embeddings.full import FullOptions

    ctx = BuildContext(
        n_users=50, n_items=2000, global_mean=3.5, rating_min=1.0, rating_max=5.0,
        user_embedding=FullOptions(), item_embedding=FullOptions(), seed=1,
    )  # fmt: skip
    with strategy.scope():
        built = make_recommender(MFOptions(dim=32), ctx, TrainingOptions(), AdamOptions(), 100)
    model = built.model  # type: ignore[attr-defined]
    table = next(w for w in model.weights if tuple(w.shape) == (2000, 32))
    shards = [tuple(v.shape) for v in getattr(table.value, "variables", [table.value])]
    x = {"user_input": np.zeros((8, 1), np.int32), "item_input": np.arange(8)[:, None]}
    try:
        with strategy.scope():
            model.train_step((x, np.ones((8, 1), np.float32)))
        error = ""
    except Exception as e:  # what Keras 3 says about a sharded table
        error = f"{e.__class__.__name__}: {e}"
    print(json.dumps({"kind": type(table.value).__name__, "shards": shards, "error": error}))
    keras.backend.clear_session()


if __name__ == "__main__":
    if sys.argv[1] == "mirrored":
        mirrored_then_none(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "mirrored-objectives":
        mirrored_then_none_each(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        parameter_server()
