"""The base class of every options block in a spec, and the constrained types blocks share.

Every float in a spec is finite: ``.inf`` and ``.nan`` are refused by validation
(``allow_inf_nan=False`` on :class:`Options`; :data:`FiniteFloat` says so where a field
is declared). Names that Keras resolves later (initializers, activations) are checked
here against fixed lists, so ``recexp validate`` catches them without importing Keras.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

#: ``numpy.random.default_rng`` and Keras seeds: 0 .. 2**32 - 1.
SEED_MAX = 2**32 - 1
Seed = Annotated[int, Field(ge=0, le=SEED_MAX)]

#: A float that is neither infinite nor NaN.
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]

#: The names ``keras.initializers.get`` accepts (Keras 3.x, ``ALL_OBJECTS_DICT``),
#: less the abstract base class.
KERAS_INITIALIZERS = (
    "constant", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "identity",
    "lecun_normal", "lecun_uniform", "normal", "one", "ones", "orthogonal", "random_normal",
    "random_uniform", "stft", "truncated_normal", "uniform", "variance_scaling", "zero",
    "zeros", "Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity",
    "IdentityInitializer", "LecunNormal", "LecunUniform", "Ones", "Orthogonal",
    "OrthogonalInitializer", "RandomNormal", "RandomUniform", "STFT", "STFTInitializer",
    "TruncatedNormal", "VarianceScaling", "Zeros",
)  # fmt: skip

#: The names ``keras.activations.get`` accepts (Keras 3.x).
KERAS_ACTIVATIONS = (
    "celu", "elu", "exponential", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu",
    "hard_swish", "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish",
    "relu", "relu6", "selu", "sigmoid", "silu", "soft_shrink", "softmax", "softplus",
    "softsign", "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "swish", "tanh",
    "tanh_shrink", "threshold",
)  # fmt: skip


def _one_of(kind: str, names: tuple[str, ...]) -> AfterValidator:
    shown = ", ".join(sorted(n for n in names if n.islower()))

    def check(value: str) -> str:
        if value not in names:
            raise ValueError(f"unknown Keras {kind} {value!r}; expected one of: {shown}")
        return value

    return AfterValidator(check)


#: A Keras initializer name, e.g. ``he_normal``.
Initializer = Annotated[str, _one_of("initializer", KERAS_INITIALIZERS)]
#: A Keras activation name, e.g. ``relu``.
Activation = Annotated[str, _one_of("activation", KERAS_ACTIVATIONS)]


class Options(BaseModel):
    """Strict, immutable options: unknown keys are errors, values never change after validation.

    Floats must be finite everywhere (``allow_inf_nan=False``).
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, protected_namespaces=(), allow_inf_nan=False
    )
