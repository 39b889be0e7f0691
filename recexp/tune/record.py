"""What a study says about itself: study.json (every trial's params, state, value, epochs
and run directory; the selected trial), Optuna's parameter importances and its
optimisation-history plot. Selection reads the study's validation metric only (val_rmse
by default, or e.g. val_ndcg@10), never test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from recexp.run_metrics import Metrics
from recexp.runs import STUDY_PLOT, STUDY_RECORD, STUDY_STORAGE, RunDir
from recexp.tune.optuna_parts import open_study, optuna, state
from recexp.tune.settings import Study
from recexp.tune.trial import trial_run_dir

STATES = ("complete", "pruned", "fail", "interrupted", "running")


def _metrics(path: Path | None) -> Metrics | None:
    try:
        return RunDir(path).metrics() if path is not None else None
    except ValueError:
        return None


def _seconds(trial: Any) -> float | None:
    if trial.datetime_complete and trial.datetime_start:
        return round((trial.datetime_complete - trial.datetime_start).total_seconds(), 2)
    return None


def trial_records(study: Study) -> list[dict[str, Any]]:
    """Every trial: number, state, params (spec values), value, epochs, run directory."""
    space = study.space
    records = []
    for trial in open_study(study.path).get_trials(deepcopy=False):
        if state(trial) == "waiting":
            continue  # a grid point not started yet
        path = trial_run_dir(study, trial.number, trial.user_attrs)
        metrics = _metrics(path)
        epochs = metrics.epochs_run if metrics else None
        record: dict[str, Any] = {
            "number": trial.number,
            "state": state(trial),
            "params": space.decode(trial.params),
            "value": trial.value,
            "epochs": epochs if epochs is not None else len(trial.intermediate_values) or None,
            "run_dir": str(path.relative_to(study.path)) if path is not None else None,
            "seconds": _seconds(trial),
        }
        if metrics is not None:  # for the reader; never used to select
            record["test_rmse"] = metrics.test.rmse
            if metrics.test.ranking:
                record["test_ndcg@10"] = metrics.test.ranking.get("ndcg@10")
        if trial.user_attrs.get("error"):
            record["error"] = trial.user_attrs["error"]
        records.append(record)
    return records


def select(records: list[dict[str, Any]], direction: str = "minimize") -> dict[str, Any] | None:
    """The completed trial with the best validation value (lowest, or highest for a
    ``maximize`` metric; earliest on a tie)."""
    scored = [r for r in records if r["state"] == "complete" and r["value"] is not None]
    sign = -1.0 if direction == "maximize" else 1.0
    return min(scored, key=lambda r: (sign * r["value"], r["number"])) if scored else None


def write_study_json(study: Study, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    records = trial_records(study)
    best = select(records, study.direction)
    states = [r["state"] for r in records]
    sessions = study.settings["sessions"]
    out = {
        "spec": study.settings["spec"],
        "space": study.settings["space"],
        "sampler": study.settings["sampler"],
        "pruner": study.settings["pruner"],
        "monitor": study.metric,
        "direction": study.direction,
        "storage": STUDY_STORAGE,
        "trials_wanted": study.trials,
        "counts": {s: states.count(s) for s in STATES},
        "epochs_trained": sum(r["epochs"] or 0 for r in records),
        "wall_seconds": round(sum(s.get("seconds") or 0 for s in sessions), 2),
        "sessions": sessions,
        "selected": best["number"] if best else None,
        "best_params": best["params"] if best else None,
        "best_value": best["value"] if best else None,
        **(extra or {}),
        "trials": records,
    }
    study.run.write_json(STUDY_RECORD, out)
    return out


def importances(study: Study) -> tuple[dict[str, float] | None, str | None]:
    """Optuna's parameter importances, or why there are none."""
    loaded = open_study(study.path)
    complete = loaded.get_trials(deepcopy=False, states=(optuna().trial.TrialState.COMPLETE,))
    if len(complete) < 2:
        return None, "needs at least 2 completed trials"
    try:
        values = optuna().importance.get_param_importances(loaded)
    except Exception as error:  # e.g. no parameter varied among completed trials
        return None, f"{error.__class__.__name__}: {error}"
    return {k: round(float(v), 4) for k, v in values.items()}, None


def plot_history(study: Study) -> Path | None:
    """Optuna's optimisation-history plot as a PNG (Agg backend); None before any trial
    completed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    loaded = open_study(study.path)
    if not loaded.get_trials(deepcopy=False, states=(optuna().trial.TrialState.COMPLETE,)):
        return None
    ax = optuna().visualization.matplotlib.plot_optimization_history(loaded)
    ax.set_title(f"{study.path.name}: val RMSE by trial")
    target = study.path / STUDY_PLOT
    ax.figure.savefig(target, dpi=100, bbox_inches="tight")
    plt.close(ax.figure)
    return target
