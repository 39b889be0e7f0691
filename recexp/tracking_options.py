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
#: URI schemes an MLflow tracking URI may have, besides a folder (no scheme) and file:
SCHEMES = ("sqlite", "http", "https", "postgresql", "mysql", "mssql", "databricks")
URI_FORMS = "a folder, file:///FOLDER, sqlite:///FILE, http(s)://HOST:PORT"
MLFLOW_MISSING = f"mlflow is not installed; {MLFLOW_INSTALL}"


def mlflow_installed() -> bool:
    return importlib.util.find_spec("mlflow") is not None


def uri_scheme(uri: str) -> str:
    """``""`` for a folder, ``"file"``, or a scheme of :data:`SCHEMES` (``postgresql+psycopg2``
    counts as ``postgresql``); ``ValueError`` for any other."""
    if "://" not in uri and not uri.startswith("file:"):
        return ""
    scheme = uri.split(":", 1)[0].lower()
    if scheme == "file" or scheme.split("+", 1)[0] in SCHEMES:
        return scheme.split("+", 1)[0]
    raise ValueError(
        f"unknown tracking URI scheme {scheme!r}; expected {URI_FORMS}, or a database URI "
        f"({', '.join(SCHEMES[3:])})"
    )


class MlflowOptions(Options):
    """Log the run to an MLflow tracking store as well."""

    uri: str | None = Field(
        None,
        description="tracking URI: a folder or file:///FOLDER (a local store: SQLite file and "
        "artifacts in it), sqlite:///FILE, or http(s)://HOST:PORT of an mlflow server; "
        "default ./mlruns",
    )
    experiment: str = Field("recexp", min_length=1, description="MLflow experiment name")

    @field_validator("uri")
    @classmethod
    def _known_scheme(cls, value: str | None) -> str | None:
        if value is not None:
            uri_scheme(value)
        return value


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
