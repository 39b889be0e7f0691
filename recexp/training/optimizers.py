"""The optimizer registry: name -> options class + a factory for the Keras optimizer.

Factories import Keras inside the function so that ``recexp validate`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import Field, NonNegativeFloat, PositiveFloat

from recexp.registry import Registry
from recexp.schema import Options

#: name -> factory ``fn(options) -> keras.optimizers.Optimizer``.
OPTIMIZERS: Registry[Callable[..., Any]] = Registry("optimizer")


class OptimizerOptions(Options):
    """What every optimizer takes."""

    name: str
    learning_rate: PositiveFloat = 0.001
    weight_decay: NonNegativeFloat | None = Field(None, description="decoupled weight decay")
    clipnorm: PositiveFloat | None = Field(None, description="clip each gradient to this norm")

    def common(self) -> dict[str, Any]:
        return {
            "learning_rate": self.learning_rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
        }


class AdamOptions(OptimizerOptions):
    name: Literal["adam", "adamw"] = "adam"
    beta_1: float = Field(0.9, gt=0, lt=1)
    beta_2: float = Field(0.999, gt=0, lt=1)
    epsilon: PositiveFloat = 1e-7


class RowwiseTablesOptions(Options):
    """Row-wise Adagrad for the tables' sparse gradients (one accumulator a row)."""

    name: Literal["rowwise_adagrad"] = "rowwise_adagrad"
    learning_rate: PositiveFloat = 0.2
    initial_accumulator_value: PositiveFloat = Field(
        1e-6, description="small: Keras' 0.1 swamps the small gradients of a table's rows"
    )
    epsilon: PositiveFloat = 1e-7


class LazyAdamOptions(AdamOptions):
    name: Literal["lazy_adam"] = "lazy_adam"  # type: ignore[assignment]
    tables: RowwiseTablesOptions | None = Field(
        None,
        description="an optimizer of their own for the embedding tables (TorchRec's split); "
        "learning_rate and schedules then move the rest",
    )


class SGDOptions(OptimizerOptions):
    name: Literal["sgd"] = "sgd"
    momentum: float = Field(0.0, ge=0, lt=1)
    nesterov: bool = False


class AdagradOptions(OptimizerOptions):
    name: Literal["adagrad", "sparse_adagrad", "rowwise_adagrad"] = "adagrad"
    initial_accumulator_value: PositiveFloat = 0.1
    epsilon: PositiveFloat = 1e-7


class RMSpropOptions(OptimizerOptions):
    name: Literal["rmsprop"] = "rmsprop"
    rho: float = Field(0.9, gt=0, lt=1)
    momentum: float = Field(0.0, ge=0, lt=1)
    epsilon: PositiveFloat = 1e-7


@OPTIMIZERS.register("adam", options=AdamOptions, help="Adam (Kingma & Ba 2015)")
def make_adam(o: AdamOptions) -> Any:
    import keras

    return keras.optimizers.Adam(beta_1=o.beta_1, beta_2=o.beta_2, epsilon=o.epsilon, **o.common())


@OPTIMIZERS.register("adamw", options=AdamOptions, help="Adam with decoupled weight decay")
def make_adamw(o: AdamOptions) -> Any:
    import keras

    kwargs = o.common()
    kwargs["weight_decay"] = 0.004 if o.weight_decay is None else o.weight_decay
    return keras.optimizers.AdamW(beta_1=o.beta_1, beta_2=o.beta_2, epsilon=o.epsilon, **kwargs)


@OPTIMIZERS.register("sgd", options=SGDOptions, help="SGD with optional (Nesterov) momentum")
def make_sgd(o: SGDOptions) -> Any:
    import keras

    return keras.optimizers.SGD(momentum=o.momentum, nesterov=o.nesterov, **o.common())


@OPTIMIZERS.register("adagrad", options=AdagradOptions, help="Adagrad (Duchi et al. 2011)")
def make_adagrad(o: AdagradOptions) -> Any:
    import keras

    return keras.optimizers.Adagrad(
        initial_accumulator_value=o.initial_accumulator_value, epsilon=o.epsilon, **o.common()
    )


@OPTIMIZERS.register(
    "lazy_adam",
    options=LazyAdamOptions,
    help="Adam that updates only the embedding rows in the batch (tables: row-wise Adagrad)",
)
def make_lazy_adam(o: LazyAdamOptions) -> Any:
    from recexp.training.sparse_optimizers import LazyAdam

    kwargs = {"beta_1": o.beta_1, "beta_2": o.beta_2, "epsilon": o.epsilon, **o.common()}
    if o.tables is None:
        return LazyAdam(**kwargs)
    from recexp.training.rowwise_adagrad import LazyAdamRowwiseTables

    return LazyAdamRowwiseTables(
        table_learning_rate=o.tables.learning_rate,
        table_initial_accumulator_value=o.tables.initial_accumulator_value,
        table_epsilon=o.tables.epsilon,
        **kwargs,
    )


@OPTIMIZERS.register(
    "sparse_adagrad", options=AdagradOptions, help="Adagrad that updates only the rows in the batch"
)
def make_sparse_adagrad(o: AdagradOptions) -> Any:
    from recexp.training.sparse_optimizers import SparseAdagrad

    return SparseAdagrad(
        initial_accumulator_value=o.initial_accumulator_value, epsilon=o.epsilon, **o.common()
    )


@OPTIMIZERS.register(
    "rowwise_adagrad",
    options=AdagradOptions,
    help="Adagrad with one accumulator per table row, updating only the rows in the batch",
)
def make_rowwise_adagrad(o: AdagradOptions) -> Any:
    from recexp.training.rowwise_adagrad import RowwiseAdagrad

    return RowwiseAdagrad(
        initial_accumulator_value=o.initial_accumulator_value, epsilon=o.epsilon, **o.common()
    )


@OPTIMIZERS.register("rmsprop", options=RMSpropOptions, help="RMSprop (Hinton 2012)")
def make_rmsprop(o: RMSpropOptions) -> Any:
    import keras

    return keras.optimizers.RMSprop(rho=o.rho, momentum=o.momentum, epsilon=o.epsilon, **o.common())


def make_optimizer(options: OptimizerOptions) -> Any:
    return OPTIMIZERS.get(options.name, key="optimizer.name").fn(options)
