"""The keys a spec allows at a place, for "did you mean" on an unknown key: walked
from :class:`recexp.config.ExperimentConfig` along pydantic's error location (which
names a union member by its tag: ``("model", "mf", "dimm")``)."""

from __future__ import annotations

import difflib
from typing import Any, get_args

from pydantic import BaseModel


def _models(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation can hold (through Optional, Annotated, unions)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models(arg)]


def _tag(model: type[BaseModel]) -> set[str]:
    """The literal tag values (family, strategy, name) a union member answers to."""
    out: set[str] = set()
    for key in ("family", "strategy", "name"):
        field = model.model_fields.get(key)
        if field is not None:
            out |= {a for a in get_args(field.annotation) if isinstance(a, str)}
    return out


def allowed_keys(root: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names of the model that holds ``loc``'s last key ([] when unknown)."""
    candidates = [root]
    for part in loc[:-1]:
        by_tag = [m for m in candidates if part in _tag(m)]
        if len(candidates) > 1 and by_tag:  # a discriminated union's member, by tag
            candidates = by_tag
            continue
        inner = [
            m
            for model in candidates
            if part in model.model_fields
            for m in _models(model.model_fields[part].annotation)
        ]
        if not inner:
            return []
        candidates = inner
    if len(candidates) != 1:
        return []
    return list(candidates[0].model_fields)


def did_you_mean(root: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """`` (did you mean 'batch_size'?)`` for a close allowed key, else ``""``."""
    close = difflib.get_close_matches(str(loc[-1]), allowed_keys(root, loc), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
