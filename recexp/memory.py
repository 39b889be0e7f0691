"""Memory estimates made before anything is built, so a spec that cannot fit is refused early.

:func:`estimate_embedding_bytes` counts the float32 rows of every user and item table a
spec asks for (each ``dim`` / ``*_dim`` of the model family is one user table and one item
table, sized by its embedding strategy), without Keras. :func:`check_memory` compares
that, times :data:`TRAINING_FACTOR` for the optimizer's state, plus what the synthetic
generator allocates, with this machine's physical memory. Vocabulary sizes come from the
synthetic options, or :data:`KNOWN_SIZES` for the published datasets; a ``file`` dataset's
sizes are known only once it is read (call the estimate again then).
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any

from recexp.errors import ConfigError

if TYPE_CHECKING:
    from recexp.config import ExperimentConfig

FLOAT_BYTES = 4
#: weights + Adam's two slot variables; gradients of looked-up rows are small beside them
TRAINING_FACTOR = 3

#: (users, items) of the published datasets, for the check at validation.
KNOWN_SIZES: dict[str, tuple[int, int]] = {
    "movielens-100k": (943, 1_682),
    "movielens-1m": (6_040, 3_706),
    "movielens-10m": (69_878, 10_677),
    "movielens-20m": (138_493, 26_744),
    "movielens-25m": (162_541, 59_047),
    "movielens-latest-small": (610, 9_724),
    "jester": (73_421, 100),
    "course-ratings": (33_901, 126),
}


def _table_params(options: Any, vocab: int, dim: int) -> int:
    """Parameters of one table of ``vocab`` ids, ``dim`` wide, built by ``options``' strategy."""
    dim = getattr(options, "dim", None) or dim
    strategy = getattr(options, "strategy", "full")
    if strategy == "hashing":
        return (options.num_bins or -(-vocab // 2)) * dim
    if strategy == "quotient_remainder":
        if options.num_buckets is not None:
            buckets = options.num_buckets
        elif options.compression is not None:
            buckets = max(1, int(vocab // options.compression))
        else:
            buckets = math.isqrt(max(vocab - 1, 0)) + 1
        quotient = buckets if options.sizing == "keras_io" else -(-vocab // buckets)
        return (buckets + quotient) * dim
    if strategy == "mixed_dim" and options.blocks is not None and options.dims is not None:
        sizes = [*options.blocks, max(vocab - sum(options.blocks), 0)]
        rows = sum(n * d for n, d in zip(sizes, options.dims, strict=True))
        return rows + sum(d * dim for d in options.dims)  # projections to the base dim
    return vocab * dim  # full, and mixed_dim by the alpha rule (its widest case)


def family_dims(model: Any) -> dict[str, int]:
    """The model's embedding sizes by field: ``dim``, ``gmf_dim``, ``mlp_dim`` ..."""
    return {
        name: value
        for name, value in model
        if (name == "dim" or name.endswith("_dim"))
        and name != "feature_dim"
        and isinstance(value, int)
    }


def estimate_embedding_bytes(config: ExperimentConfig, n_users: int, n_items: int) -> int:
    """Bytes of the float32 user and item tables ``config`` builds for these vocabularies.

    Biases (one value per id) are included; side-feature tables (small) are not.
    """
    params = 0
    for dim in family_dims(config.model).values():
        params += _table_params(config.embedding.user, n_users, dim)
        params += _table_params(config.embedding.item, n_items, dim)
    params += n_users + n_items  # biases, where the family has them
    return params * FLOAT_BYTES


def estimate_synthetic_bytes(dataset: Any) -> int:
    """About what the synthetic generator allocates for ``dataset`` (its options)."""
    ids = dataset.n_users + dataset.n_items
    pairs = dataset.n_users * dataset.n_items
    sampling = 16 * pairs if pairs <= 50_000_000 else 40 * dataset.n_ratings
    return 8 * ids * (dataset.rank + 3) + sampling + 32 * dataset.n_ratings


def machine_memory() -> int | None:
    """Physical memory of this machine in bytes, or None where it cannot be read."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return None


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError


def vocabulary_sizes(config: ExperimentConfig) -> tuple[int, int] | None:
    """``(n_users, n_items)`` when known before reading any data."""
    from recexp.data.synthetic import SyntheticOptions

    dataset = config.dataset
    if isinstance(dataset, SyntheticOptions):
        return dataset.n_users, dataset.n_items
    return KNOWN_SIZES.get(dataset.name)


#: optimizers that update every row of a table whose gradient is dense
DENSE_OPTIMIZERS = frozenset({"adam", "adamw", "sgd", "rmsprop", "adagrad"})
#: tables with more rows than this make a whole-table penalty with a dense optimizer slow
DENSE_L2_ROWS = 50_000


def dense_l2_warning(config: ExperimentConfig, sizes: tuple[int, int] | None = None) -> str | None:
    """One line when whole-table L2 meets a dense optimizer on a table above
    :data:`DENSE_L2_ROWS` ids (every step then rewrites every row and its optimizer slots).

    ``sizes`` defaults to :func:`vocabulary_sizes`; ``None`` when they are unknown.
    """
    sizes = sizes or vocabulary_sizes(config)
    if sizes is None or config.optimizer.name not in DENSE_OPTIMIZERS:
        return None
    vocab = dict(zip(("user", "item"), sizes, strict=True))
    big = [
        t
        for t in ("user", "item")
        if getattr(getattr(config.embedding, t), "l2", 0.0) and vocab[t] > DENSE_L2_ROWS
    ]
    if not big:
        return None
    per_rating = "model.l2" if config.model.family == "mf" else "model.embedding_l2"
    tables = " and ".join(f"{t} ({vocab[t]:,} rows)" for t in big)
    return (
        f"embedding.{big[0]}.l2 is a whole-table penalty: with optimizer "
        f"{config.optimizer.name} every step rewrites all rows of the {tables} tables; "
        f"for speed use {per_rating} (per rating) with lazy_adam"
    )


def check_memory(
    config: ExperimentConfig, sizes: tuple[int, int] | None = None, memory: int | None = None
) -> None:
    """A one-line :class:`ConfigError` when ``config`` cannot fit in memory.

    ``sizes`` defaults to :func:`vocabulary_sizes`; nothing is checked when they are
    unknown. ``memory`` defaults to :func:`machine_memory`.
    """
    sizes = sizes or vocabulary_sizes(config)
    memory = memory or machine_memory()
    if memory is None:
        return
    from recexp.data.synthetic import SyntheticOptions

    dataset = config.dataset
    if isinstance(dataset, SyntheticOptions):
        need = estimate_synthetic_bytes(dataset)
        if need > memory:
            raise ConfigError(
                f"generating {dataset.n_users} x {dataset.n_items} synthetic ratings needs "
                f"about {_size(need)}, more than this machine's {_size(memory)} of memory",
                key="dataset.n_users",
                got=dataset.n_users,
            )
    if sizes is None:
        return
    tables = estimate_embedding_bytes(config, *sizes)
    if tables * TRAINING_FACTOR > memory:
        dims = family_dims(config.model)
        field = max(dims, key=lambda k: dims[k]) if dims else "dim"
        raise ConfigError(
            f"the embedding tables for {sizes[0]} users and {sizes[1]} items need about "
            f"{_size(tables)} ({_size(tables * TRAINING_FACTOR)} with the optimizer's state), "
            f"more than this machine's {_size(memory)} of memory",
            key=f"model.{field}",
            got=dims.get(field),
        )
