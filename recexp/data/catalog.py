"""What the ``recexp data`` commands do: the cache's contents, fetching, adding a file
downloaded by hand, and a dataset's statistics. No command-line parsing here."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from recexp.data.base import DatasetOptions
    from recexp.data.ratings import Ratings


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return ""


def _disk(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def cache_rows() -> tuple[Path, list[tuple[str, str, str, str, str]]]:
    """The cache folder, and per dataset: name, files, cached?, size on disk, about."""
    from recexp.data.base import DATASETS
    from recexp.data.download import ARCHIVES, DATASET_ARCHIVES, cache_dir, cached

    rows = []
    for entry in DATASETS:
        names = DATASET_ARCHIVES.get(entry.name, ())
        found = [p for p in (cached(ARCHIVES[n]) for n in names) if p is not None]
        state = "-" if not names else "yes" if len(found) == len(names) else "no"
        if found and len(found) < len(names):
            state = f"{len(found)} of {len(names)}"
        size = _size(sum(_disk(p) for p in found)) if found else ""
        rows.append((entry.name, ", ".join(names) or "-", state, size, entry.help))
    return cache_dir(), rows


def fetch(name: str, mirrors: list[str] | None = None) -> list[Path]:
    """Download a dataset's files into the cache (checksums verified); their paths."""
    from recexp.data.base import DATASETS
    from recexp.data.download import ARCHIVES, DATASET_ARCHIVES, download, verified
    from recexp.errors import ConfigError

    DATASETS.get(name, key="name")
    if name not in DATASET_ARCHIVES:
        raise ConfigError("this dataset has nothing to download", key="name", got=name)
    paths = []
    for filename in DATASET_ARCHIVES[name]:
        archive = ARCHIVES[filename]
        paths.append(verified(archive, name) or download(archive, mirrors or (), dataset=name))
    return paths


def add_file(name: str, archive: Path) -> Path:
    """Check a file downloaded by hand against its checksum and copy it into the cache."""
    from recexp.data.download import ARCHIVES, DATASET_ARCHIVES, add, file_digest
    from recexp.errors import ConfigError, DataError

    if name not in DATASET_ARCHIVES:
        known = ", ".join(sorted(DATASET_ARCHIVES))
        raise ConfigError(f"unknown dataset to add; expected one of: {known}", got=name)
    if not archive.is_file():
        raise DataError("no such file", got=str(archive))
    choices = [ARCHIVES[n] for n in DATASET_ARCHIVES[name]]
    by_name = [a for a in choices if a.filename == archive.name]
    by_hash = [
        a for a in choices if a.digest and file_digest(archive, a.algorithm or "") == a.digest
    ]
    matches = by_name or by_hash or (choices if len(choices) == 1 else [])
    if not matches:
        expected = ", ".join(a.filename for a in choices)
        raise DataError(f"matches none of {expected} by name or checksum", file=str(archive))
    return add(matches[0], archive)


def describe(target: str, path: Path | None) -> tuple[str, dict[str, Any]]:
    """A title and the statistics of a dataset (name or spec file), with its split sizes
    when a spec gives one."""
    from recexp.data.pipeline import load_ratings, prepare

    options, seed = dataset_options(target, path)
    ratings = load_ratings(options)
    summary = summarize(ratings)
    if seed is not None:
        dataset = prepare(options, seed)
        sizes = (len(dataset.train), len(dataset.val), len(dataset.test))
        summary[f"split {options.split.strategy} (train/val/test)"] = " / ".join(
            f"{n:,}" for n in sizes
        )
    return f"{options.name}: {ratings.info.get('source', '')}", summary


def summarize(ratings: Ratings) -> dict[str, Any]:
    """Rows, users, items, density, rating scale and histogram, activity quantiles, time range."""
    import numpy as np
    import pandas as pd

    frame = ratings.frame
    users, items = frame["user"].nunique(), frame["item"].nunique()
    values = frame["rating"].to_numpy()
    scale = ratings.scale
    if scale.step and len(np.unique(values)) <= 50:
        counted = frame["rating"].value_counts().sort_index()
        histogram = {f"{v:g}": int(c) for v, c in counted.items()}
    else:
        counts, edges = np.histogram(values, bins=10, range=(scale.min, scale.max))
        bins = zip(edges[:-1], edges[1:], counts, strict=True)
        histogram = {f"{a:g}..{b:g}": int(c) for a, b, c in bins}
    quantiles = [0, 0.25, 0.5, 0.75, 1]

    def activity(column: str) -> str:
        q = frame[column].value_counts().quantile(quantiles).to_numpy()
        return " / ".join(f"{v:g}" for v in q)

    summary: dict[str, Any] = {
        "rows": len(frame),
        "users": users,
        "items": items,
        "density": f"{len(frame) / max(users * items, 1):.4%}",
        "rating scale": f"{scale.min:g}..{scale.max:g}, step {scale.step or 'continuous'}",
        "rating mean / std": f"{values.mean():.3f} / {values.std():.3f}",
        "rating histogram": ", ".join(f"{k}: {v}" for k, v in histogram.items()),
        "ratings per user (min/25/50/75/max)": activity("user"),
        "ratings per item (min/25/50/75/max)": activity("item"),
    }
    if "timestamp" in frame.columns:
        first, last = pd.to_datetime([frame["timestamp"].min(), frame["timestamp"].max()], unit="s")
        summary["time range (UTC)"] = f"{first:%Y-%m-%d} .. {last:%Y-%m-%d}"
    for side, features in (("user", ratings.user_features), ("item", ratings.item_features)):
        if features is not None:
            summary[f"{side} features"] = ", ".join(map(str, features.columns))
    return summary


def dataset_options(target: str, path: Path | None) -> tuple[DatasetOptions, int | None]:
    """Dataset options and seed from a spec file, or from a dataset name (and --path)."""
    from pydantic import ValidationError

    from recexp.data.base import DATASETS
    from recexp.errors import ConfigError

    if target.endswith((".yaml", ".yml")):
        from recexp.config import load_spec

        spec = load_spec(Path(target))
        return spec.dataset, spec.seed
    options_class = cast("type[DatasetOptions]", DATASETS.get(target, key="name").options)
    data: dict[str, Any] = {"name": target} | ({"path": path} if path else {})
    try:
        return options_class.model_validate(data), None
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join(["dataset", *map(str, first["loc"])])
        raise ConfigError(first["msg"].removeprefix("Value error, "), key=key) from None
