"""``recexp tune`` and ``recexp sweep``: hyperparameter search with Optuna, trials on this
machine or on Ray. A study is a parent run (:class:`recexp.parents.ParentRun`, kind
``trials``); a sweep is a study with the grid sampler and no pruner.

- :mod:`recexp.tune.space`: the search-space YAML; :mod:`recexp.tune.points`: its points
  as specs, all validated before anything is written; :mod:`recexp.tune.grid`: a sweep's
  ``--grid`` as a space;
- :mod:`recexp.tune.settings`: the study directory's settings (tune.json), option checks;
- :mod:`recexp.tune.optuna_parts`: Optuna's storage, samplers, pruners, trial states;
- :mod:`recexp.tune.study`: a new study, or ``--resume``; :mod:`recexp.tune.session`: one
  session's trials, then the record (:mod:`recexp.tune.record`: study.json, importances,
  the plot) and the selection on validation RMSE;
- :mod:`recexp.tune.trial`: one trial as a child run, its pruning;
- :mod:`recexp.tune.local`, :mod:`recexp.tune.worker`: this process, or ``--jobs K``
  worker processes; :mod:`recexp.tune.ray_backend`, :mod:`recexp.tune.ray_schedulers`:
  Ray Tune (OptunaSearch + ASHA), the only Ray imports;
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
