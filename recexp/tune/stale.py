"""Trials a study left running (a crash, Ctrl-C on Ray, a killed worker): marked
interrupted, in Optuna and in their run directory, so that ``--resume`` runs them again;
one whose run directory says it finished (the crash came between its end and Optuna
being told) is recorded as it finished instead."""

from __future__ import annotations

from typing import Any

from recexp.runs import RunDir
from recexp.tune.optuna_parts import STUDY_NAME, optuna, storage
from recexp.tune.settings import Study
from recexp.tune.trial import run_status, settle_finished, trial_run_dir


def interrupt_running(study: Study, reason: str) -> tuple[Any, int]:
    """Mark every running trial interrupted; returns the loaded Optuna study and how
    many there were."""
    states = optuna().trial.TrialState
    st = storage(study.path)
    loaded = optuna().load_study(study_name=STUDY_NAME, storage=st)
    stale = loaded.get_trials(deepcopy=False, states=(states.RUNNING,))
    for trial in stale:
        if settle_finished(study, st, trial) is not None:  # its run ended: kept as it ended
            continue
        st.set_trial_user_attr(trial._trial_id, "interrupted", True)
        st.set_trial_state_values(trial._trial_id, states.FAIL)
        path = trial_run_dir(study, trial.number, trial.user_attrs)
        if path is not None and run_status(path).get("status") == "running":
            RunDir(path).set_status("interrupted", reason=reason)
    return loaded, len(stale)
