"""The experiment spec: pydantic models, YAML loading and ``--set`` overrides.

The spec's pluggable blocks (dataset, model, embedding, optimizer) are discriminated
unions assembled from the registries, so a new registry entry is a new valid spec
with no change here. Every problem becomes one :class:`ConfigError` line:
``FILE: dotted.key: problem (got VALUE)``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import (
    Field,
    PositiveInt,
    ValidationError,
    field_validator,
    model_validator,
)

from recexp.data.base import DATASETS, DatasetOptions
from recexp.embeddings import EMBEDDINGS, EmbeddingOptions
from recexp.errors import _MISSING, ConfigError
from recexp.evaluation.options import EvaluationOptions, monitor_problem
from recexp.models import MODELS, ModelOptions
from recexp.registry import Registry
from recexp.run_names import name_with_overrides
from recexp.schema import FiniteFloat, Options, Seed
from recexp.spec_keys import did_you_mean
from recexp.spec_yaml import apply_override, parse_yaml
from recexp.tracking_options import TrackingOptions
from recexp.training.distribute_options import DistributeOptions, check_distribute
from recexp.training.fit_options import MONITORS, EarlyStopping, ThreadOptions  # noqa: F401
from recexp.training.objective_options import (
    ObjectiveOptions,
    implicit_defaults,
    objective_problem,
)
from recexp.training.optimizers import OPTIMIZERS, OptimizerOptions


def _union(registry: Registry[Any], tag: str) -> Any:
    classes = list(dict.fromkeys(entry.options for entry in registry))
    if len(classes) == 1:
        return classes[0]
    return Annotated[Union[tuple(classes)], Field(discriminator=tag)]  # noqa: UP007


if TYPE_CHECKING:
    DatasetSpec = DatasetOptions
    ModelSpec = ModelOptions
    StrategySpec = EmbeddingOptions
    OptimizerSpec = OptimizerOptions
else:
    DatasetSpec = _union(DATASETS, "name")
    ModelSpec = _union(MODELS, "family")
    StrategySpec = _union(EMBEDDINGS, "strategy")
    OptimizerSpec = _union(OPTIMIZERS, "name")

#: where each registry-backed block lives in the spec, and its discriminating key
_TAGGED: dict[str, tuple[Registry[Any], str]] = {
    "dataset": (DATASETS, "name"),
    "model": (MODELS, "family"),
    "embedding": (EMBEDDINGS, "strategy"),
    "embedding.user": (EMBEDDINGS, "strategy"),
    "embedding.item": (EMBEDDINGS, "strategy"),
    "optimizer": (OPTIMIZERS, "name"),
}


def _full() -> Any:
    return EMBEDDINGS.get("full").options()


class EmbeddingSpec(Options):
    """One strategy per table. A spec may give one block for both tables."""

    user: StrategySpec = Field(default_factory=_full)
    item: StrategySpec = Field(default_factory=_full)

    @model_validator(mode="before")
    @classmethod
    def _one_block_for_both(cls, data: Any) -> Any:
        if isinstance(data, dict) and not set(data) <= {"user", "item"}:
            # one block for both tables; a per-table block (e.g. from --set) replaces it
            shared = {"strategy": "full"} | {
                k: v for k, v in data.items() if k not in ("user", "item")
            }
            return {
                t: data[t] if isinstance(data.get(t), dict) else shared for t in ("user", "item")
            }
        if isinstance(data, dict):
            return {
                k: {"strategy": "full", **v} if isinstance(v, dict) and "strategy" not in v else v
                for k, v in data.items()
            }
        return data


class TrainingOptions(Options):
    """How the model is fitted and evaluated."""

    batch_size: PositiveInt | Literal["full"] = Field(256, description='"full" = whole train set')
    max_epochs: PositiveInt = 100
    loss: Literal["mse", "huber", "mae"] = Field("mse", description="of objective: rating")
    objective: ObjectiveOptions = Field(
        default_factory=ObjectiveOptions,
        description="rating (regress ratings), or bce / bpr / sampled_softmax on sampled negatives",
    )
    early_stopping: EarlyStopping | None = EarlyStopping()
    shuffle: bool = True
    clip_predictions: bool = Field(True, description="clip predictions to the rating scale")
    eval_batch_size: PositiveInt = 65_536
    lr_scaling: Literal["none", "sqrt", "linear"] = Field(
        "none", description="scale optimizer.learning_rate by (batch_size / lr_base_batch_size)"
    )
    lr_base_batch_size: PositiveInt = Field(256, description="batch size the learning rate is for")
    warmup_epochs: FiniteFloat = Field(
        0.0, ge=0, description="linear learning-rate warm-up, in epochs"
    )
    engine: Literal["compiled", "keras"] = Field(
        "compiled",
        description="compiled: one graph call per epoch (fast); keras: plain model.fit",
    )
    steps_per_execution: PositiveInt = Field(1, description="batches per call (engine: keras)")
    steps_per_epoch: PositiveInt | None = Field(
        None,
        description="at most this many batches per epoch (a bounded measurement on big data); "
        "epochs walk on through one shuffle, as Keras' steps_per_epoch",
    )
    jit_compile: bool | Literal["auto"] = False
    distribute: DistributeOptions = Field(
        default_factory=DistributeOptions, description="one device, local devices, or a cluster"
    )
    threads: ThreadOptions = Field(
        default_factory=ThreadOptions,
        description="CPU thread pools; intra_op: 1 is faster for embedding models' small ops",
    )

    @field_validator("batch_size", mode="before")
    @classmethod
    def _int_or_full(cls, value: Any) -> Any:
        if isinstance(value, str) and value != "full":
            raise ValueError("must be a positive integer or 'full'")
        return value


class ExperimentConfig(Options):
    """One experiment: what data, which model, how to train it."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=80)
    seed: Seed = Field(42, description="0 .. 2**32 - 1")
    dataset: DatasetSpec = Field(default_factory=lambda: DATASETS.get("synthetic").options())
    model: ModelSpec
    embedding: EmbeddingSpec = EmbeddingSpec()
    optimizer: OptimizerSpec = Field(default_factory=lambda: OPTIMIZERS.get("adam").options())
    training: TrainingOptions = TrainingOptions()
    tracking: TrackingOptions = TrackingOptions()
    evaluation: EvaluationOptions = Field(
        default_factory=EvaluationOptions, description="top-N evaluation beyond RMSE/MAE"
    )

    @model_validator(mode="before")
    @classmethod
    def _default_tags(cls, data: Any) -> Any:
        """A block without its tag gets the default entry (synthetic, adam)."""
        if isinstance(data, dict):
            data = dict(data)
            for key, tag, default in (
                ("dataset", "name", "synthetic"),
                ("optimizer", "name", "adam"),
            ):
                if isinstance(data.get(key), dict) and tag not in data[key]:
                    data[key] = {tag: default, **data[key]}
        return implicit_defaults(data)

    def resolved(self) -> dict[str, Any]:
        """The spec with every default filled in, as plain YAML-able data."""
        return self.model_dump(mode="json")


# --- loading ------------------------------------------------------------------------------


def load_spec(path: str | Path, overrides: list[str] | None = None) -> ExperimentConfig:
    """Read, override and validate a spec; any problem is a one-line :class:`ConfigError`."""
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("spec file not found", file=file) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read spec: {e.__class__.__name__}", file=file) from None
    data = parse_yaml(text, file)
    try:
        for item in overrides or []:
            apply_override(data, item)
        if overrides and isinstance(data.get("name"), str):
            data["name"] = name_with_overrides(data["name"], overrides)
        return validate(data)
    except ConfigError as e:
        raise e.with_file(file) from None


def validate(data: dict[str, Any]) -> ExperimentConfig:
    """The validated spec, or a one-line :class:`ConfigError`.

    Beyond the schema, a setting the model family cannot honour
    (:meth:`ModelOptions.unsupported`) and a spec whose embedding tables (or synthetic
    data) cannot fit in this machine's memory are refused here
    (:func:`recexp.memory.check_memory`).
    """
    from recexp.memory import check_memory

    try:
        config = ExperimentConfig.model_validate(data)
    except ValidationError as e:
        raise _one_line(e, data) from None
    check_distribute(config.training)
    refused = objective_problem(config) or config.model.unsupported(config)
    if refused is not None:  # a setting the objective or the family cannot honour
        key, why, got = refused
        raise ConfigError(why, key=key, got=got)
    stopping = config.training.early_stopping
    problem = stopping and monitor_problem(stopping.monitor, config.evaluation.ranking)
    if stopping and problem:
        raise ConfigError(problem, key="training.early_stopping.monitor", got=stopping.monitor)
    check_memory(config)
    return config


def _one_line(error: ValidationError, data: dict[str, Any]) -> ConfigError:
    """The most useful single line for a pydantic error, keyed by the dotted path in ``data``."""
    first = error.errors(include_url=False)[0]
    kind = first["type"]
    loc = _path_in(data, first["loc"], missing=kind == "missing")
    value = first.get("input", _MISSING)
    if kind == "union_tag_invalid":  # several entries: pydantic names the bad tag
        registry, tag = _TAGGED.get(".".join(loc), (None, ""))
        got = first.get("ctx", {}).get("tag")
        if registry is not None:
            return ConfigError(registry.unknown_message(got), key=".".join([*loc, tag]), got=got)
    if kind == "literal_error" and loc:  # a single entry: the tag is a plain Literal
        registry, tag = _TAGGED.get(".".join(loc[:-1]), (None, ""))
        if registry is not None and loc[-1] == tag:
            return ConfigError(registry.unknown_message(value), key=".".join(loc), got=value)
    if kind in ("union_tag_not_found", "missing"):
        tag = _TAGGED.get(".".join(loc), (None, ""))[1]
        key = ".".join([*loc, tag] if kind == "union_tag_not_found" else loc)
        return ConfigError("required key is missing", key=key)
    if kind == "extra_forbidden":
        hint = did_you_mean(ExperimentConfig, tuple(first["loc"]))
        return ConfigError(f"unknown key{hint}", key=".".join(loc), got=value)
    message = first["msg"]
    message = re.sub(r"^(Value error|Assertion failed), ", "", message)
    message = message[0].lower() + message[1:]
    if "(got " in message:
        value = _MISSING
    return ConfigError(message, key=".".join(loc) or None, got=value)


def _path_in(data: Any, loc: tuple[Any, ...], missing: bool = False) -> list[str]:
    """``loc`` as keys of ``data``: drops the union tags and member names pydantic inserts."""
    path: list[str] = []
    node = data
    for i, part in enumerate(loc):
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if in_dict or in_list:
            node = node[part]
        elif missing and isinstance(node, dict) and i == len(loc) - 1:
            node = None  # the key that is missing from the spec
        else:
            continue  # a union tag, or a member name below a leaf value
        path.append(str(part))
    return path


def registries() -> dict[str, Registry[Any]]:
    """The four registries a spec draws on, by the names ``recexp list`` knows them by."""
    return {
        "datasets": DATASETS,
        "models": MODELS,
        "embeddings": EMBEDDINGS,
        "optimizers": OPTIMIZERS,
    }
