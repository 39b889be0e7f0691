"""One session of a study (a new one, or ``--resume``): its remaining trials on a
backend, with the live table, then the study's record and metrics.

The study is a :class:`recexp.parents.ParentRun` of kind ``trials``: the session runs
inside it, so an error or Ctrl-C marks the study ``failed`` or ``interrupted`` as for
folds and seeds (``recexp tune --resume`` goes on from there).
"""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

from recexp.errors import TrainingError
from recexp.parents import ParentRun
from recexp.runs import RunDir
from recexp.tune.optuna_parts import completed, finished, open_study
from recexp.tune.record import importances, plot_history, write_study_json
from recexp.tune.settings import Study


def pruner_label(study: Study, backend: str, pruner: Any = None) -> str:
    if pruner is not None:
        return type(pruner).__name__
    return str(study.settings.get("pruner") or ("asha" if backend == "ray" else "median"))


def run_session(
    study: Study,
    parent: ParentRun,
    *,
    timeout: float | None,
    jobs: int,
    backend: str,
    address: str | None,
    resources: dict[str, float],
    pruner: Any = None,
) -> RunDir:
    """The study's remaining trials, then study.json and metrics.json. Call it inside
    ``with parent:``."""
    from recexp.tune.progress import Progress

    sessions = study.settings["sessions"]
    started = time.time()
    label = pruner_label(study, backend, pruner)
    record = {"started": started, "backend": backend, "jobs": jobs, "timeout": timeout}
    sessions.append({**record, "trials": study.trials, "pruner": label})
    study.save()
    parent.run.set_status("running", session=len(sessions) - 1, backend=backend)
    parent.display.message(
        f"study {study.path}: {study.trials} trials, sampler {study.settings['sampler']}, "
        f"pruner {label}, backend {backend}" + (f" x{jobs}" if jobs > 1 else "")
    )
    progress = Progress(
        study.path,
        study.trials,
        quiet=parent.display.quiet,
        metric=study.metric,
        maximize=study.direction == "maximize",
    )
    progress.start()
    deadline = started + timeout if timeout else None
    try:
        _run_backend(study, parent, jobs, backend, address, resources, deadline, pruner)
    except BaseException:
        sessions[-1]["seconds"] = round(time.time() - started, 2)
        study.save()
        with contextlib.suppress(Exception):  # the record as far as it goes
            parent.completed = completed(open_study(study.path).get_trials(deepcopy=False))
            write_study_json(study)
        raise
    finally:
        progress.stop()
    sessions[-1]["seconds"] = round(time.time() - started, 2)
    study.save()
    return finalize(study, parent)


def _run_backend(
    study: Study,
    parent: ParentRun,
    jobs: int,
    backend: str,
    address: str | None,
    resources: dict[str, float],
    deadline: float | None,
    pruner: Any,
) -> None:
    session = len(study.settings["sessions"]) - 1
    if backend == "ray":
        from recexp.tune.ray_backend import run_ray

        run_ray(study, session=session, deadline=deadline, address=address, resources=resources)
    elif jobs == 1:
        from recexp.tune.local import work

        work(study, parent, session=session, deadline=deadline, pruner=pruner)
    else:
        from recexp.tune.local import run_workers

        run_workers(study, jobs, session, deadline)


def finalize(study: Study, parent: ParentRun) -> RunDir:
    """study.json, importances, the plot; the selected trial's metrics as the study's,
    status ``completed`` (or ``stopped`` when the timeout came first)."""
    values, why = importances(study)
    plot = plot_history(study)
    extra = {"importances": values, "importances_note": why, "plot": plot.name if plot else None}
    record = write_study_json(study, extra)
    best = next((r for r in record["trials"] if r["number"] == record["selected"]), None)
    if best is None:
        raise TrainingError(f"tune: no trial produced a {study.metric}", file=str(study.path))
    selected = RunDir(study.path / best["run_dir"])
    metrics = selected.metrics()
    _log_selected_params(parent, selected)
    metrics.name = study.path.name
    metrics.tune = {  # type: ignore[attr-defined]
        "trials": len(record["trials"]),
        "counts": record["counts"],
        "epochs_trained": record["epochs_trained"],
        "wall_seconds": record["wall_seconds"],
        "selected": {k: best[k] for k in ("number", "params", "value", "run_dir")},
    }
    trials = open_study(study.path).get_trials(deepcopy=False)
    done, parent.completed = finished(trials), completed(trials)
    complete = done >= study.trials
    status: dict[str, Any] = {"trials": done, "selected": best["number"]}
    if not complete:
        status["reason"] = "timeout before every trial ran; --resume goes on"
    parent.end(metrics, "completed" if complete else "stopped", **status)
    _report(parent, record, best, metrics, values)
    return parent.run


def _log_selected_params(parent: ParentRun, selected: RunDir) -> None:
    """The study's MLflow run gets the selected trial's spec as its params (the base
    spec's, less the searched keys, were logged at the start)."""
    if not parent.trackers:
        return
    import yaml

    from recexp.runs import CONFIG
    from recexp.tracking import log_params_all

    config = yaml.safe_load((selected.path / CONFIG).read_text()) or {}
    log_params_all(parent.trackers, {k: v for k, v in config.items() if k != "name"})


def _report(
    parent: ParentRun,
    record: dict[str, Any],
    best: dict[str, Any],
    metrics: Any,
    values: dict[str, float] | None,
) -> None:
    display, counts = parent.display, record["counts"]
    done = counts["complete"] + counts["pruned"] + counts["fail"]
    display.message(
        f"{done} trials ({counts['complete']} complete, {counts['pruned']} pruned, "
        f"{counts['fail']} failed), {record['epochs_trained']} epochs, "
        f"{record['wall_seconds']:.1f} s"
    )
    params = ", ".join(
        f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={json.dumps(v)}"
        for k, v in best["params"].items()
    )
    metric = record["monitor"]
    test_name = metric.removeprefix("val_")
    test = getattr(metrics.test, test_name, None) or (metrics.test.ranking or {}).get(test_name)
    display.message(
        f"selected on {metric}: trial {best['number']} ({params}): {metric} "
        f"{best['value']:.4f}, test {test_name} {test or float('nan'):.4f}  -> {parent.path}"
    )
    if values:
        display.message("importances: " + ", ".join(f"{k} {v:.2f}" for k, v in values.items()))
