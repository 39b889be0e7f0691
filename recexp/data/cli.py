"""``recexp data``: list, fetch, inspect and add datasets.

Each command imports what it needs when it runs, so mounting this app costs nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from recexp.errors import one_line_errors

if TYPE_CHECKING:
    from recexp.data.base import DatasetOptions
    from recexp.data.ratings import Ratings

app = typer.Typer(
    help="Datasets: list them, fetch them into the cache, inspect them, add downloaded files.",
    no_args_is_help=True,
)


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


@app.command("list")
def list_datasets() -> None:
    """Known datasets, whether their files are in the cache, and how big they are."""
    from rich.console import Console
    from rich.table import Table

    from recexp.data.base import DATASETS
    from recexp.data.download import ARCHIVES, DATASET_ARCHIVES, cache_dir, cached

    table = Table("dataset", "files", "cached", "size", "about", title=f"cache: {cache_dir()}")
    for entry in DATASETS:
        names = DATASET_ARCHIVES.get(entry.name, ())
        found = [p for p in (cached(ARCHIVES[n]) for n in names) if p is not None]
        state = "-" if not names else "yes" if len(found) == len(names) else "no"
        if found and len(found) < len(names):
            state = f"{len(found)} of {len(names)}"
        size = _size(sum(_disk(p) for p in found)) if found else ""
        table.add_row(entry.name, ", ".join(names) or "-", state, size, entry.help)
    Console().print(table)


@app.command()
def fetch(
    name: Annotated[str, typer.Argument(help="dataset name, e.g. movielens-1m")],
    mirror: Annotated[
        list[str] | None, typer.Option(help="URL tried after upstream; repeatable")
    ] = None,
) -> None:
    """Download a dataset's files into the cache (checksums verified)."""
    from recexp.data.base import DATASETS
    from recexp.data.download import ARCHIVES, DATASET_ARCHIVES, cached, download
    from recexp.errors import ConfigError

    with one_line_errors():
        DATASETS.get(name, key="name")
        if name not in DATASET_ARCHIVES:
            raise ConfigError("this dataset has nothing to download", key="name", got=name)
        for filename in DATASET_ARCHIVES[name]:
            archive = ARCHIVES[filename]
            path = cached(archive) or download(archive, mirror or (), dataset=name)
            typer.echo(str(path))


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


def _options(target: str, path: Path | None) -> tuple[DatasetOptions, int | None]:
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


@app.command()
def info(
    target: Annotated[str, typer.Argument(help="dataset name, or a spec file (.yaml)")],
    path: Annotated[Path | None, typer.Option(help="file, folder or archive to read")] = None,
) -> None:
    """Statistics of a dataset: size, rating scale and histogram, activity, time range."""
    from rich.console import Console
    from rich.table import Table

    from recexp.data.pipeline import load_ratings, prepare

    with one_line_errors():
        options, seed = _options(target, path)
        ratings = load_ratings(options)
        summary = summarize(ratings)
        if seed is not None:
            dataset = prepare(options, seed)
            sizes = (len(dataset.train), len(dataset.val), len(dataset.test))
            summary[f"split {options.split.strategy} (train/val/test)"] = " / ".join(
                f"{n:,}" for n in sizes
            )
    table = Table("statistic", "value", title=f"{options.name}: {ratings.info.get('source', '')}")
    for key, value in summary.items():
        table.add_row(key, f"{value:,}" if isinstance(value, int) else str(value))
    Console().print(table)


@app.command()
def add(
    name: Annotated[str, typer.Argument(help="dataset name, e.g. jester")],
    archive: Annotated[Path, typer.Argument(help="the file you downloaded")],
) -> None:
    """Check a file you downloaded yourself against its checksum and copy it into the cache."""
    from recexp.data.download import ARCHIVES, DATASET_ARCHIVES, add, file_digest
    from recexp.errors import ConfigError, DataError

    with one_line_errors():
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
        stored = add(matches[0], archive)
    typer.echo(f"added {stored} (sha256 {file_digest(stored, 'sha256')})")
