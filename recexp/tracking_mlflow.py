"""The MLflow tracker: one recexp run as one MLflow run (params, epoch metrics, final
metrics, the run directory's files), nested under a parent for sweeps, folds and seeds.

mlflow is imported only when the tracker talks to its store. A store that fails *during*
training does not fail the run: the tracker prints one warning and stops logging.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from recexp.errors import ConfigError
from recexp.tracking_options import MLFLOW_MISSING, mlflow_installed
from recexp.tracking_probe import check_location, local_folder, quick_http, refused
from recexp.tracking_tensorboard import TENSORBOARD_DIR
from recexp.tracking_values import flatten, metric_key, numeric_metrics, param_value

DEFAULT_STORE = "mlruns"
#: run status -> MLflow's RunStatus name
MLFLOW_STATUS = {
    "completed": "FINISHED",
    "failed": "FAILED",
    "interrupted": "KILLED",
    "pruned": "KILLED",
    "stopped": "KILLED",  # a study stopped by its timeout, to be resumed
}
PARAM_BATCH = 100  # MLflow's limit of params per log_batch call


def _warn(what: str, error: BaseException) -> None:
    line = str(error).splitlines()[0] if str(error) else type(error).__name__
    print(f"warning: {what}: {line[:200]} (tracking stopped; the run goes on)", file=sys.stderr)


def require_mlflow() -> None:
    """Raise the one-line ConfigError (with the install command) if mlflow is absent."""
    if not mlflow_installed():
        raise ConfigError(MLFLOW_MISSING, key="tracking.mlflow")


def resolve_uri(uri: str | None) -> tuple[str, str | None]:
    """(tracking URI, artifact location for new experiments or None).

    None, a folder or a ``file:`` URI is a local store in that folder: an SQLite file
    ``mlflow.db`` and an ``artifacts`` folder (MLflow 3 refuses its old file store by
    default). ``sqlite:///``, ``http(s)://`` and database URIs are passed to MLflow as they
    are; any other scheme is a one-line ConfigError. Nothing is created here (see
    :meth:`MlflowTracker.probe`).
    """
    directory = local_folder(uri, DEFAULT_STORE)
    if directory is None:
        assert uri is not None
        return uri, None
    return f"sqlite:///{directory / 'mlflow.db'}", (directory / "artifacts").as_uri()


class MlflowTracker:
    """One recexp run as one MLflow run: params (the resolved spec, dotted keys),
    per-epoch metrics (step = epoch), final metrics, the run directory's files as
    artifacts, tags for the dataset fingerprint and the status.

    For a parent with children (sweep, tuning study, folds, seeds): start a tracker on
    the parent, then give each child ``parent.child()`` (or ``parent_run_id=``): MLflow
    shows the children nested under the parent.
    """

    def __init__(
        self,
        uri: str | None = None,
        experiment: str = "recexp",
        *,
        parent_run_id: str | None = None,
        run_name: str | None = None,
    ) -> None:
        require_mlflow()
        self.given = uri or DEFAULT_STORE
        self._folder = local_folder(uri, DEFAULT_STORE)
        self.uri, self._artifact_location = resolve_uri(uri)
        self._experiment: str | None = None
        self.experiment = experiment
        self.parent_run_id = parent_run_id
        self.run_name = run_name
        self.run_id: str | None = None
        self._client: Any = None
        self._failed = False

    def child(self, run_name: str | None = None) -> MlflowTracker:
        """A tracker for a nested run under this (started) one."""
        if self.run_id is None:
            raise RuntimeError("start the parent tracker before making children")
        tracker = MlflowTracker.__new__(MlflowTracker)
        tracker.__dict__.update(self.__dict__)
        tracker.parent_run_id, tracker.run_name, tracker.run_id = self.run_id, run_name, None
        tracker._failed = False
        return tracker

    @property
    def client(self) -> Any:
        if self._client is None:
            import logging

            from mlflow.tracking import MlflowClient

            for name in ("mlflow.store.db.utils", "alembic"):  # "creating tables" chatter
                logging.getLogger(name).setLevel(logging.WARNING)

            self._client = MlflowClient(tracking_uri=self.uri)
        return self._client

    def probe(self) -> None:
        """Open the store and find (or make) the experiment, in seconds: a folder that
        cannot be written, a server that does not answer, a store MLflow refuses are one
        line naming the URI (see :mod:`recexp.tracking_probe`). Called before the run
        directory exists; :meth:`start` calls it when nobody did."""
        if self._experiment is not None:
            return
        check_location(self.given, self._folder)
        try:
            with quick_http():
                self._experiment = self._experiment_id()
        except Exception as e:  # noqa: BLE001 - any store failure is one line
            first = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise refused(f"cannot log to the MLflow store: {first[:200]}", self.given) from None

    def _experiment_id(self) -> str:
        from mlflow.exceptions import MlflowException

        if self._experiment is not None:
            return self._experiment
        found = self.client.get_experiment_by_name(self.experiment)
        if found is not None:
            return str(found.experiment_id)
        try:
            return str(
                self.client.create_experiment(
                    self.experiment, artifact_location=self._artifact_location
                )
            )
        except MlflowException:  # another process created it meanwhile
            found = self.client.get_experiment_by_name(self.experiment)
            if found is None:
                raise
            return str(found.experiment_id)

    def start(self, resolved_config: Mapping[str, Any], run_path: str | Path) -> None:
        """Create the MLflow run and log the spec as params. A store that cannot be
        reached is a one-line ConfigError (raised before training)."""
        self.probe()
        run_path = Path(run_path)
        tags = {
            "recexp.run_dir": str(run_path.resolve()),
            "recexp.status": "running",
            "mlflow.source.name": "recexp",
        }
        for section, field, tag in (
            ("model", "family", "recexp.model"),
            ("dataset", "name", "recexp.dataset"),
        ):
            block = resolved_config.get(section)
            if isinstance(block, Mapping) and block.get(field):
                tags[tag] = str(block[field])
        if self.parent_run_id:
            tags["mlflow.parentRunId"] = self.parent_run_id
        try:
            run = self.client.create_run(
                self._experiment_id(), run_name=self.run_name or run_path.name, tags=tags
            )
            self.run_id = run.info.run_id
            self._log_params(resolved_config)
        except Exception as e:  # noqa: BLE001 - any store failure is one line
            first = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise ConfigError(
                f"cannot log to the MLflow store: {first[:200]}",
                key="tracking.mlflow.uri",
                got=self.given,
            ) from None

    def _log_params(self, config: Mapping[str, Any]) -> None:
        from mlflow.entities import Param

        params = [Param(k, param_value(v)) for k, v in flatten(config).items()]
        for at in range(0, len(params), PARAM_BATCH):
            self.client.log_batch(self.run_id, params=params[at : at + PARAM_BATCH])

    def log_params(self, params: Mapping[str, Any]) -> None:
        """More params (a study's selected trial's values, the keys it searched)."""
        if self.run_id is None or self._failed:
            return
        try:
            self._log_params(params)
        except Exception as e:  # noqa: BLE001
            _warn("MLflow params", e)

    def on_epoch(self, row: Mapping[str, float]) -> None:
        if self.run_id is None or self._failed:
            return
        import time

        from mlflow.entities import Metric

        step = int(row.get("epoch", 0))
        now = int(time.time() * 1000)
        batch = [
            Metric(metric_key(key), float(value), now, step)
            for key, value in row.items()
            if key != "epoch" and isinstance(value, (int, float)) and math.isfinite(value)
        ]
        try:
            self.client.log_batch(self.run_id, metrics=batch)
        except Exception as e:  # noqa: BLE001
            self._failed = True
            _warn("MLflow epoch metrics", e)

    def finish(self, metrics: Mapping[str, Any], status: str, run_path: str | Path) -> None:
        """Final metrics, fingerprint and status tags, the run directory's files, end."""
        if self.run_id is None:
            return
        from mlflow.entities import Metric, RunTag

        run_path = Path(run_path)
        try:
            if not self._failed:
                import time

                now = int(time.time() * 1000)
                final = [Metric(k, v, now, 0) for k, v in numeric_metrics(metrics).items()]
                tags = [RunTag("recexp.status", status)]
                if metrics.get("fingerprint") is not None:
                    tags.append(
                        RunTag(
                            "recexp.fingerprint",
                            json.dumps(metrics["fingerprint"], sort_keys=True, default=str),
                        )
                    )
                for at in range(0, max(len(final), 1), 1000):
                    self.client.log_batch(
                        self.run_id, metrics=final[at : at + 1000], tags=tags if not at else []
                    )
                self._log_files(run_path)
        except Exception as e:  # noqa: BLE001
            _warn("MLflow final metrics and artifacts", e)
        finally:
            try:
                self.client.set_terminated(self.run_id, MLFLOW_STATUS.get(status, "FAILED"))
            except Exception as e:  # noqa: BLE001
                _warn("MLflow end of run", e)

    def _log_files(self, run_path: Path) -> None:
        """The run directory's files, and its tensorboard folder; other folders (a
        parent's children) have runs of their own. Temporary files are skipped."""
        for path in sorted(run_path.iterdir()):
            if path.name.startswith("."):
                continue
            if path.is_file():
                self.client.log_artifact(self.run_id, str(path))
            elif path.is_dir() and path.name == TENSORBOARD_DIR:
                self.client.log_artifacts(self.run_id, str(path), artifact_path=path.name)
