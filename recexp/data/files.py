"""Ratings from plain files: ``course-ratings``, any table (``file``) and RecBole (``recbole``).

``file`` reads CSV/TSV/any separator (one or more characters; multi-character ones are
rewritten to one so the C parser reads them) or Parquet. With a header, columns are
named; without one, they are positions (default: user, item, rating, timestamp in
that order). Left undeclared, the rating scale is min..max of the data, with step 1
or 0.5 when every rating fits one.

``recbole`` reads RecBole atomic files: ``NAME.inter`` (tab-separated, header cells
``field:type`` with type ``token``, ``float``, ``token_seq`` or ``float_seq``) and,
when present beside it, ``NAME.user`` and ``NAME.item`` as side features.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from recexp.data.base import DATASETS, FileDatasetOptions, PredefinedSplit, ScaleOptions
from recexp.data.download import ARCHIVES
from recexp.schema import Options

if TYPE_CHECKING:
    import pandas as pd

    from recexp.data.ratings import Ratings
    from recexp.data.source import Source

Column = str | int | None
ROLES = ("user", "item", "rating", "timestamp")
PARQUET = {".parquet", ".pq"}


class ColumnMap(Options):
    """Which file columns hold what: names with a header, 0-based positions without."""

    user: Column = None
    item: Column = None
    rating: Column = None
    timestamp: Column = Field(None, description="optional; used when present")


class CourseRatingsOptions(FileDatasetOptions):
    """IBM course ratings (seed 004): CSV ``user,item,rating``; item ids are strings."""

    name: Literal["course-ratings"] = "course-ratings"
    rating_scale: ScaleOptions | None = Field(None, description="default: min..max of the data")


class _LocalOptions(FileDatasetOptions):
    """Options of a dataset that only exists on disk: ``path`` is required."""

    @model_validator(mode="after")
    def _path_given(self) -> _LocalOptions:
        split = self.split
        files = isinstance(split, PredefinedSplit) and split.train is not None
        if self.path is None and not files:
            raise ValueError("path is required, unless split names train and test files")
        return self


def _path(options: FileDatasetOptions) -> Path:
    assert options.path is not None  # checked by _LocalOptions
    return options.path.expanduser()


class FileOptions(_LocalOptions):
    """Any ratings table on disk."""

    name: Literal["file"] = "file"
    format: Literal["auto", "csv", "tsv", "parquet"] = "auto"
    sep: str | None = Field(None, description="separator; default from format or sniffed")
    header: bool | None = Field(None, description="default: sniffed from the first line")
    columns: ColumnMap = ColumnMap()
    rating_scale: ScaleOptions | None = Field(None, description="default: min..max of the data")


class RecBoleColumns(Options):
    """RecBole field names (its defaults: user_id, item_id, rating, timestamp)."""

    user: str = "user_id"
    item: str = "item_id"
    rating: str = "rating"
    timestamp: str | None = Field("timestamp", description="used when present")


class RecBoleOptions(_LocalOptions):
    """A RecBole dataset: ``path`` is its folder (holding NAME.inter) or the .inter file."""

    name: Literal["recbole"] = "recbole"
    columns: RecBoleColumns = RecBoleColumns()
    rating_scale: ScaleOptions | None = Field(None, description="default: min..max of the data")
    features: bool = Field(True, description="read NAME.user / NAME.item when present")


@DATASETS.register("course-ratings", options=CourseRatingsOptions, help="IBM course ratings CSV")
def load_course_ratings(options: CourseRatingsOptions) -> Ratings:
    """Load the course ratings (233,306 rows: 33,901 users x 126 courses)."""
    from recexp.data.clean import finish, read_table
    from recexp.data.source import locate

    members = ["course-ratings.csv", "ratings.csv"]
    source = locate(options, ARCHIVES["course-ratings.csv"], members)
    member = next(m for m in members if source.has(m))
    frame = read_table(source, member, dtype={"item": str})
    return finish(frame, options, source.label(member), scale=options.rating_scale, first_line=2)


def _sniff(first: str, options: FileOptions) -> tuple[str, bool]:
    """Separator and header of a text file from its first line."""
    sep = options.sep or {"csv": ",", "tsv": "\t"}.get(options.format)
    if sep is None:
        sep = next((s for s in ("::", "\t", ",", ";", "|") if s in first), r"\s+")
    if options.header is not None:
        return sep, options.header
    if any(isinstance(c, str) for c in options.columns.model_dump().values()):
        return sep, True
    cells = first.split() if sep == r"\s+" else first.split(sep)
    at = options.columns.rating if isinstance(options.columns.rating, int) else 2
    cell = cells[at].strip().strip('"') if at < len(cells) else ""
    try:
        float(cell)
    except ValueError:
        return sep, True
    return sep, False


def _read_any(options: FileOptions, source: Source, name: str) -> tuple[pd.DataFrame, bool | None]:
    """The whole table and whether it had a header (None: Parquet, no lines)."""
    import pandas as pd

    from recexp.data.clean import read_table
    from recexp.errors import DataError

    path = source.location
    if options.format == "parquet" or (options.format == "auto" and path.suffix in PARQUET):
        try:
            return pd.read_parquet(path), None
        except (OSError, ValueError) as error:
            raise DataError(f"cannot read Parquet: {error}", file=str(path)) from None
    with source.open(name) as f:
        first = f.readline().decode("utf-8", "replace")
    sep, header = _sniff(first, options)
    return read_table(source, name, sep=sep, header=0 if header else None), header


def _select(
    frame: pd.DataFrame, mapping: dict[str, Column], header: bool, label: str
) -> pd.DataFrame:
    """Pick and rename the mapped columns; unmapped ones by name (header) or position."""
    from recexp.errors import DataError

    chosen = {}
    for position, role in enumerate(ROLES):
        wanted = mapping.get(role)
        optional = wanted is None and role == "timestamp"
        if wanted is None:
            wanted = role if header else position
        if isinstance(wanted, int):
            column = frame.columns[wanted] if wanted < frame.shape[1] else None
        else:
            column = wanted if wanted in frame.columns else None
        if column is not None:
            chosen[column] = role
        elif not optional:
            got = list(frame.columns)
            raise DataError(f"missing column {wanted!r} for {role}", file=label, got=got)
    return frame[list(chosen)].set_axis(list(chosen.values()), axis=1)


@DATASETS.register("file", options=FileOptions, help="any ratings table: CSV, TSV, Parquet")
def load_file(options: FileOptions) -> Ratings:
    """Load a ratings table from ``options.path``."""
    from recexp.data.clean import finish
    from recexp.data.source import Source
    from recexp.errors import DataError

    path = _path(options)
    if not path.is_file():
        raise DataError("no such file", key="dataset.path", got=str(options.path))
    source = Source("file", path, primary=path.name)
    frame, header = _read_any(options, source, path.name)
    frame = _select(frame, options.columns.model_dump(), header is not False, str(path))
    first_line = None if header is None else 2 if header else 1
    return finish(frame, options, str(path), scale=options.rating_scale, first_line=first_line)


def read_atomic(source: Source, name: str) -> pd.DataFrame:
    """A RecBole atomic file; columns renamed from ``field:type`` to ``field``."""
    from recexp.data.clean import read_table

    with source.open(name) as f:
        header = f.readline().decode("utf-8").rstrip("\r\n").split("\t")
    fields = [cell.rsplit(":", 1) if ":" in cell else [cell, "token"] for cell in header]
    kinds = [kind for _, kind in fields]
    dtype = {
        cell: "float64" if kind == "float" else "str"
        for cell, kind in zip(header, kinds, strict=True)
    }
    frame = read_table(source, name, sep="\t", header=0, dtype=dtype, quoting=3)
    frame.columns = [field for field, _ in fields]
    for field, kind in fields:
        if kind in ("token_seq", "float_seq"):
            parse = float if kind == "float_seq" else str
            frame[field] = [[parse(v) for v in str(s).split()] for s in frame[field].fillna("")]
    return frame


def _features(source: Source, name: str, key: str) -> pd.DataFrame | None:
    if not source.has(name):
        return None
    frame = read_atomic(source, name)
    return frame.set_index(key) if key in frame.columns else None


@DATASETS.register("recbole", options=RecBoleOptions, help="RecBole atomic files (.inter)")
def load_recbole(options: RecBoleOptions) -> Ratings:
    """Load ``NAME.inter`` (and ``NAME.user`` / ``NAME.item``) from ``options.path``."""
    from recexp.data.clean import finish
    from recexp.data.source import Source
    from recexp.errors import DataError

    path = _path(options)
    inter = path
    if path.is_dir():
        named, found = path / f"{path.name}.inter", sorted(path.glob("*.inter"))
        inter = named if named.is_file() else found[0] if len(found) == 1 else path / "?.inter"
    if not inter.is_file():
        got = str(options.path)
        raise DataError("no .inter file here, or several", key="dataset.path", got=got)
    source = Source("dir", inter.parent)
    frame = read_atomic(source, inter.name)
    names = options.columns
    mapping: dict[str, Column] = {"user": names.user, "item": names.item, "rating": names.rating}
    if names.timestamp in frame.columns:
        mapping["timestamp"] = names.timestamp
    frame = _select(frame, dict(mapping), True, str(inter))
    users = items = None
    if options.features:
        users = _features(source, f"{inter.stem}.user", names.user)
        items = _features(source, f"{inter.stem}.item", names.item)
    info = {"user_features": users is not None, "item_features": items is not None}
    return finish(frame, options, str(inter), scale=options.rating_scale, info=info,
                  user_features=users, item_features=items, first_line=2)  # fmt: skip
