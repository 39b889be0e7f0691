"""``recexp tune``: hyperparameter search with Optuna, trials on this machine or on Ray.

- :mod:`recexp.tune.space`: the search-space YAML and its up-front validation;
- :mod:`recexp.tune.study`: the study directory, Optuna storage, samplers and pruners, the
  local backend (one process, or ``--jobs K`` worker processes), selection and study.json;
- :mod:`recexp.tune.worker`: one local worker process;
- :mod:`recexp.tune.ray_backend`: Ray Tune (OptunaSearch + ASHA), the only Ray import;
- :mod:`recexp.tune.progress`: the live table of trials.

Opening a study in Optuna's own tools: the storage is ``STUDY/study.log`` (journal file),
study name ``recexp``::

    optuna-dashboard STUDY/study.log

    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend
    study = optuna.load_study(
        study_name="recexp", storage=JournalStorage(JournalFileBackend("STUDY/study.log"))
    )
"""
