"""The search space of ``recexp tune``: YAML keyed by dotted spec keys.

```yaml
model.dim: {kind: categorical, choices: [16, 32, 64]}
model.l2: {kind: float, low: 0.01, high: 0.3, log: true}
model.layers: {kind: categorical, choices: [[64, 32], [128, 64, 32]]}
embedding: {kind: categorical, choices: [{strategy: full}, {strategy: hashing, buckets: 500}]}
training.batch_size: {kind: int, low: 128, high: 1024, step: 128}
```

Kinds are Optuna's: ``float`` (low, high, ``log``, ``step``), ``int`` (low, high, ``step``,
``log``) and ``categorical`` (``choices``: any spec values, whole mappings included). Every
problem is one :class:`~recexp.errors.ConfigError` line, ``FILE: key: problem (got VALUE)``.
:func:`recexp.tune.points.check_space` validates every point against the spec schema.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from recexp.errors import ConfigError
from recexp.spec_yaml import load_yaml, parse_yaml

KINDS = ("float", "int", "categorical")
_FIELDS = {
    "float": {"kind", "low", "high", "log", "step"},
    "int": {"kind", "low", "high", "log", "step"},
    "categorical": {"kind", "choices"},
}
_KEY = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*$")
#: value types Optuna stores as categorical choices; anything else gets a JSON label
_PLAIN = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class Param:
    """One dotted spec key and its distribution."""

    key: str
    kind: str
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    step: float | int | None = None
    choices: tuple[Any, ...] = ()

    # -- categorical choices as Optuna values -------------------------------------------

    @property
    def labels(self) -> list[Any]:
        """The choices as Optuna can store them: scalars as they are, the rest as JSON."""
        return [_label(choice) for choice in self.choices]

    def decode(self, label: Any) -> Any:
        """A sampled label back to the spec value it stands for."""
        if self.kind != "categorical":
            return label
        for choice in self.choices:
            if _label(choice) == label and type(_label(choice)) is type(label):
                return choice
        raise KeyError(f"{self.key}: {label!r} is not one of the choices")

    def points(self) -> list[Any]:
        """The values validated up front: both bounds, or every choice."""
        if self.kind == "categorical":
            return list(self.choices)
        return [self.low, self.high]

    def suggest(self, trial: Any) -> Any:
        """The value ``trial`` (an ``optuna.Trial``) samples for this key."""
        if self.kind == "float":
            return trial.suggest_float(self.key, self.low, self.high, log=self.log, step=self.step)
        if self.kind == "int":
            return trial.suggest_int(
                self.key, self.low, self.high, step=self.step or 1, log=self.log
            )
        return self.decode(trial.suggest_categorical(self.key, self.labels))

    def as_dict(self) -> dict[str, Any]:
        if self.kind == "categorical":
            return {"kind": "categorical", "choices": list(self.choices)}
        out: dict[str, Any] = {"kind": self.kind, "low": self.low, "high": self.high}
        if self.log:
            out["log"] = True
        if self.step is not None:
            out["step"] = self.step
        return out


def _label(value: Any) -> Any:
    return value if isinstance(value, _PLAIN) else json.dumps(value, sort_keys=True)


@dataclass(frozen=True)
class Space:
    """An ordered set of :class:`Param`, one per dotted spec key."""

    params: tuple[Param, ...]
    file: str | None = None
    _by_key: dict[str, Param] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_key.update({p.key: p for p in self.params})

    def __getitem__(self, key: str) -> Param:
        return self._by_key[key]

    def __len__(self) -> int:
        return len(self.params)

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.params]

    def suggest(self, trial: Any) -> dict[str, Any]:
        """One point of the space, sampled by ``trial``: ``{dotted.key: spec value}``."""
        return {p.key: p.suggest(trial) for p in self.params}

    def decode(self, params: dict[str, Any]) -> dict[str, Any]:
        """Optuna's stored params (categorical labels) -> spec values."""
        return {k: self[k].decode(v) if k in self._by_key else v for k, v in params.items()}

    def grid(self) -> dict[str, list[Any]]:
        """The search space of Optuna's GridSampler: every key's labels."""
        return {p.key: p.labels for p in self.params}

    def grid_points(self) -> list[dict[str, Any]]:
        """Every combination of the choices as Optuna params, the last key varying fastest."""
        combos = itertools.product(*(p.labels for p in self.params))
        return [dict(zip(self.keys, combo, strict=True)) for combo in combos]

    def grid_size(self) -> int:
        return math.prod(len(p.choices) for p in self.params)

    def as_dict(self) -> dict[str, Any]:
        return {p.key: p.as_dict() for p in self.params}

    @classmethod
    def from_dict(cls, data: Any, file: str | None = None) -> Space:
        """Parse a space mapping; any problem is a one-line ConfigError naming ``file``."""
        try:
            if not isinstance(data, dict) or not data:
                raise ConfigError(
                    "a search space is a mapping of dotted spec keys to distributions",
                    got=data if not isinstance(data, dict) else "{}",
                )
            return cls(tuple(_param(key, value) for key, value in data.items()), file=file)
        except ConfigError as error:
            raise error.with_file(file) if file else error from None


def load_space(path: str | Path) -> Space:
    """Read a search-space YAML file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("search space file not found", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(
            f"cannot read search space: {e.__class__.__name__}", file=str(path)
        ) from None
    if not text.strip():
        raise ConfigError("the search space is empty", file=str(path))
    try:
        data = load_yaml(text)  # a key given twice is refused, as in a spec
    except ConfigError as e:
        raise e.with_file(str(path)) from None
    except yaml.YAMLError:
        parse_yaml(text, str(path))  # raises the spec loader's one line: where, what
        raise
    return Space.from_dict(data, file=str(path))


def _number(key: str, name: str, value: Any, kind: str) -> float | int:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "int":
        ok = ok and float(value).is_integer()
    if not ok or not math.isfinite(float(value)):
        what = "an integer" if kind == "int" else "a number"
        raise ConfigError(f"{name} must be {what}", key=key, got=value)
    return int(value) if kind == "int" else float(value)


def _param(key: Any, spec: Any) -> Param:
    if not isinstance(key, str) or not _KEY.match(key):
        raise ConfigError("keys are dotted spec keys like model.l2", got=key)
    if not isinstance(spec, dict):
        raise ConfigError(
            "expected a mapping with kind: float | int | categorical", key=key, got=spec
        )
    kind = spec.get("kind")
    if kind is None:
        raise ConfigError("required key is missing", key=f"{key}.kind")
    if kind not in KINDS:
        raise ConfigError(f"unknown kind; expected one of: {', '.join(KINDS)}", key=key, got=kind)
    unknown = sorted(set(spec) - _FIELDS[kind])
    if unknown:
        raise ConfigError(
            f"unknown field for kind {kind}; expected: {', '.join(sorted(_FIELDS[kind]))}",
            key=f"{key}.{unknown[0]}",
            got=spec[unknown[0]],
        )
    if kind == "categorical":
        choices = spec.get("choices")
        if choices is None:
            raise ConfigError("required key is missing", key=f"{key}.choices")
        if not isinstance(choices, list) or not choices:
            raise ConfigError("choices must be a non-empty list", key=f"{key}.choices", got=choices)
        labels = [json.dumps(c, sort_keys=True) for c in choices]
        duplicate = next(
            (c for c, lab in zip(choices, labels, strict=True) if labels.count(lab) > 1), None
        )
        if duplicate is not None:
            raise ConfigError("a choice is given twice", key=f"{key}.choices", got=duplicate)
        return Param(key, kind, choices=tuple(choices))
    for name in ("low", "high"):
        if name not in spec:
            raise ConfigError("required key is missing", key=f"{key}.{name}")
    low = _number(key, "low", spec["low"], kind)
    high = _number(key, "high", spec["high"], kind)
    if not low < high:
        raise ConfigError("low must be below high", key=key, got=f"low {low}, high {high}")
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise ConfigError("log must be true or false", key=f"{key}.log", got=log)
    if log and low <= 0:
        raise ConfigError("a log scale needs low above 0", key=f"{key}.low", got=low)
    step = spec.get("step")
    if step is not None:
        step = _number(key, "step", step, kind)
        if step <= 0:
            raise ConfigError("step must be above 0", key=f"{key}.step", got=step)
        if log and not (kind == "int" and step == 1):
            raise ConfigError("log and step do not go together", key=f"{key}.step", got=step)
    return Param(key, kind, low=low, high=high, log=log, step=step)
