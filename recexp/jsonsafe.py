"""JSON that strict readers accept: no ``NaN`` or ``Infinity`` ever reaches a file.

Python's ``json`` writes ``float("inf")`` as ``Infinity`` and NaN as ``NaN``, which are
not JSON; a metric that could not be computed (an empty part, a diverged model) is
written as ``null`` instead. Use :func:`finite_or_none` on anything bound for
``metrics.json`` (and write with ``allow_nan=False`` so a miss fails loudly).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


def finite_or_none(obj: Any) -> Any:
    """``obj`` with every non-finite float (numpy scalars too) replaced by None.

    Mappings and sequences are copied (tuples become lists, as JSON has them); numpy
    scalars become Python numbers; anything else is returned as it is.
    """
    if isinstance(obj, bool) or obj is None or isinstance(obj, str | int):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {key: finite_or_none(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite_or_none(value) for value in obj]
    item = getattr(obj, "item", None)  # numpy scalars
    if callable(item) and getattr(obj, "shape", None) == ():
        return finite_or_none(item())
    return obj
