"""The TensorBoard tracker: event files under ``<run>/tensorboard``, written with
TensorFlow's summary API (imported only when the tracker starts; the ``tensorboard``
package itself need not be installed)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

TENSORBOARD_DIR = "tensorboard"


def _plugin_metadata(plugin: str) -> bytes:
    """SummaryMetadata that TensorBoard's scalar/text dashboards read (what
    tensorboard.summary would write; tensorboard itself need not be installed)."""
    from tensorflow.core.framework import summary_pb2

    metadata = summary_pb2.SummaryMetadata()
    metadata.plugin_data.plugin_name = plugin
    if plugin == "scalars":
        metadata.data_class = summary_pb2.DATA_CLASS_SCALAR
    else:
        metadata.data_class = summary_pb2.DATA_CLASS_TENSOR
    return metadata.SerializeToString()


class TensorBoardTracker:
    """Event files under ``<run>/tensorboard`` laid out like Keras' TensorBoard callback:
    ``train/`` and ``validation/`` with the same tags (``epoch_rmse``, ``epoch_loss``,
    ...) so TensorBoard draws train and val on one chart; the learning rate and epoch
    seconds under ``train/``; the final test metrics under ``test/``; the resolved spec
    as text."""

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Params are MLflow's; the spec is in the event files as text already."""

    def __init__(self, directory: str = TENSORBOARD_DIR) -> None:
        self.directory = directory
        self._writers: dict[str, Any] = {}
        self._root: Path | None = None

    def _writer(self, name: str) -> Any:
        import tensorflow as tf

        if name not in self._writers:
            assert self._root is not None
            self._writers[name] = tf.summary.create_file_writer(str(self._root / name))
        return self._writers[name]

    def _scalars(self, name: str, values: Mapping[str, float], step: int) -> None:
        import tensorflow as tf

        metadata = _plugin_metadata("scalars")
        with self._writer(name).as_default():
            for tag, value in values.items():
                tf.summary.write(tag, tf.constant(value, tf.float32), step=step, metadata=metadata)

    def start(self, resolved_config: Mapping[str, Any], run_path: str | Path) -> None:
        import tensorflow as tf
        import yaml

        self._root = Path(run_path) / self.directory
        text = yaml.safe_dump(dict(resolved_config), sort_keys=False)
        with self._writer("train").as_default():
            tf.summary.write(
                "config",
                tf.constant("```yaml\n" + text + "```"),
                step=0,
                metadata=_plugin_metadata("text"),
            )

    def on_epoch(self, row: Mapping[str, float]) -> None:
        if self._root is None:
            return
        step = int(row.get("epoch", 0))
        train, val = {}, {}
        for key, value in row.items():
            if key == "epoch" or not isinstance(value, (int, float)) or not math.isfinite(value):
                continue
            if key.startswith("val_"):
                val[f"epoch_{key[4:]}"] = float(value)
            else:
                train[f"epoch_{key}"] = float(value)
        self._scalars("train", train, step)
        if val:
            self._scalars("validation", val, step)

    def finish(self, metrics: Mapping[str, Any], status: str, run_path: str | Path) -> None:
        if self._root is None:
            return
        step = metrics.get("best_epoch") if isinstance(metrics.get("best_epoch"), int) else 0
        test = metrics.get("test") or {}
        values = {
            f"test_{k}": float(v)
            for k, v in test.items()
            if isinstance(v, (int, float)) and math.isfinite(v)
        }
        if values:
            self._scalars("test", values, int(step or 0))
        for writer in self._writers.values():
            writer.flush()
            writer.close()
        self._writers.clear()
