"""Import TensorFlow and Keras without their start-up noise on stderr.

TensorFlow's GPU build writes several lines straight to file descriptor 2 before its own
log level applies (``TF_CPP_MIN_LOG_LEVEL`` does not reach them): that absl logging is not
initialised, that no CUDA driver was found, that ``cuInit`` failed, which CPU
instructions it could use. On a machine without a GPU every ``recexp train`` would start
with them. :func:`import_tensorflow` runs the import and the first device query with
descriptor 2 sent to a temporary file, then writes back every line that is not one of
those known messages, so a real error still shows. ``RECEXP_TF_LOGS=1`` keeps them all.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

NOISE = (
    "absl::InitializeLog()",
    "cudart_stub.cc",
    "cuda_platform.cc",
    "cuda_executor.cc",
    "cpu_feature_guard.cc",
    "To enable the following instructions",
    "Unable to register cuDNN factory",
    "Unable to register cuFFT factory",
    "Unable to register cuBLAS factory",
    "computation placer already registered",
    "oneDNN custom operations are on",
)


@contextmanager
def filtered_stderr(noise: tuple[str, ...] = NOISE) -> Iterator[None]:
    """Hold back what is written to descriptor 2; on exit, write back all but ``noise``."""
    if os.environ.get("RECEXP_TF_LOGS"):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            kept = [
                line
                for line in held.read().decode("utf-8", "replace").splitlines(keepends=True)
                if not any(marker in line for marker in noise)
            ]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def import_tensorflow() -> None:
    """Import TensorFlow and Keras and list the devices once, quietly (see module doc)."""
    with filtered_stderr():
        import keras  # noqa: F401
        import tensorflow as tf

        tf.config.list_physical_devices()


def set_threads(intra_op: int, inter_op: int) -> str | None:
    """Size TensorFlow's CPU thread pools for this process (0 leaves TensorFlow's default).

    The pools are fixed once the runtime has started (an earlier run in the same process);
    a different request then leaves them as they are and returns one line saying so.
    """
    import_tensorflow()
    import tensorflow as tf

    threading = tf.config.threading
    pools = (
        (
            "intra_op",
            intra_op,
            threading.get_intra_op_parallelism_threads,
            threading.set_intra_op_parallelism_threads,
        ),
        (
            "inter_op",
            inter_op,
            threading.get_inter_op_parallelism_threads,
            threading.set_inter_op_parallelism_threads,
        ),
    )
    kept = []
    for name, wanted, get, set_ in pools:
        if not wanted or get() == wanted:
            continue
        try:
            set_(wanted)
        except RuntimeError:
            kept.append(f"{name}={get() or 'default'}")
    if kept:
        return (
            f"training.threads: TensorFlow already started in this process; kept {', '.join(kept)}"
        )
    return None


def thread_pools() -> dict[str, int]:
    """The thread-pool sizes in force (0 = TensorFlow's default, one per core)."""
    import tensorflow as tf

    threading = tf.config.threading
    return {
        "intra_op": threading.get_intra_op_parallelism_threads(),
        "inter_op": threading.get_inter_op_parallelism_threads(),
    }
