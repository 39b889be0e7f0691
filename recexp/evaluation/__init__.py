"""The evaluator: rating metrics (RMSE/MAE) and top-N ranking metrics of a fitted model.

Submodules are imported by name (``recexp.evaluation.rating``, ``.ranking``, ...): this
``__init__`` stays empty so that the spec (``recexp.config``) can import the evaluation
options without pulling in the evaluator.
"""
