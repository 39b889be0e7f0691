"""The base class of every options block in a spec."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Options(BaseModel):
    """Strict, immutable options: unknown keys are errors, values never change after validation."""

    model_config = ConfigDict(extra="forbid", frozen=True, protected_namespaces=())
