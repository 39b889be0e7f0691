"""The ``tracking`` block of a spec: where a run is also recorded (MLflow, TensorBoard).

Importing this module imports neither mlflow nor TensorFlow: whether mlflow is installed
is checked with :func:`importlib.util.find_spec`, so ``recexp validate`` reports a
missing extra as one line without loading anything heavy.
"""

from __future__ import annotations

import importlib.util

from pydantic import Field, field_validator

from recexp.schema import Options

MLFLOW_INSTALL = "pip install 'recexp[tracking]' (or: pip install mlflow)"
MLFLOW_MISSING = f"mlflow is not installed; {MLFLOW_INSTALL}"


def mlflow_installed() -> bool:
    return importlib.util.find_spec("mlflow") is not None


class MlflowOptions(Options):
    """Log the run to an MLflow tracking store as well."""

    uri: str | None = Field(
        None,
        description="tracking URI: a directory (a local store: SQLite file and artifacts in it), "
        "sqlite:///FILE, or http://HOST:PORT of an mlflow server; default ./mlruns",
    )
    experiment: str = Field("recexp", min_length=1, description="MLflow experiment name")


class TrackingOptions(Options):
    """Where else the run is recorded; the run directory is always written."""

    mlflow: MlflowOptions | None = Field(
        None, description="log params, epoch metrics, final metrics and the run's files to MLflow"
    )
    tensorboard: bool = Field(
        False, description="write TensorBoard event files (scalars per epoch) to <run>/tensorboard"
    )

    @field_validator("mlflow")
    @classmethod
    def _mlflow_installed(cls, value: MlflowOptions | None) -> MlflowOptions | None:
        if value is not None and not mlflow_installed():
            raise ValueError(MLFLOW_MISSING)
        return value
