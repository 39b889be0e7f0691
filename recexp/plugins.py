"""Model families, embedding strategies and datasets from installed packages.

A package declares its modules as entry points, as pytest and MLflow plugins do::

    [project.entry-points."recexp.models"]
    my_family = "my_package.my_family"      # a module that uses @MODELS.register

    [project.entry-points."recexp.embeddings"]    # @EMBEDDINGS.register
    [project.entry-points."recexp.datasets"]      # @DATASETS.register

Each group is imported when its registry is first looked up (:class:`recexp.registry.
Registry`), so ``recexp --help`` imports no plugin. A plugin module imports what it
registers with from ``recexp.models``, ``recexp.embeddings`` or ``recexp.data.base`` (not
``recexp.config``, which is built from the registries). A plugin that fails to import
is one line on stderr, and recexp goes on without it.
"""

from __future__ import annotations

import sys
from importlib.metadata import entry_points

GROUPS = ("recexp.models", "recexp.embeddings", "recexp.datasets")


def load_group(group: str) -> list[str]:
    """Import every entry point of ``group``; returns the names that failed."""
    failed = []
    for point in entry_points(group=group):
        try:
            point.load()
        except Exception as error:  # a broken plugin must not break recexp
            failed.append(point.name)
            reason = f"{error.__class__.__name__}: {error}".splitlines()[0][:200]
            print(
                f"recexp: plugin {point.name!r} ({point.value}, entry point {group}) "
                f"not loaded: {reason}",
                file=sys.stderr,
            )
    return failed
