"""MovieLens (GroupLens): 100K, 1M, 10M, 20M, 25M and latest-small, in their native formats.

==========================  ===================  =========  =====================
name                        ratings file         scale      side features
==========================  ===================  =========  =====================
movielens-100k              u.data (tab)         1..5       u.user, u.item
movielens-1m                ratings.dat (``::``) 1..5       users.dat, movies.dat
movielens-10m               ratings.dat (``::``) 0.5..5     movies.dat
movielens-20m / 25m         ratings.csv          0.5..5     movies.csv
movielens-latest-small      ratings.csv          0.5..5     movies.csv
==========================  ===================  =========  =====================

User features (100K, 1M): age, gender, occupation, zip. Item features: title, year
(from the title), genres (a list). Both are indexed by raw id. ``ratings.dat`` is read
with the C parser split on ``:`` (columns 0, 2, 4, 6), never the slow regex path.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from recexp.data.base import DATASETS, FileDatasetOptions
from recexp.data.download import ARCHIVES

if TYPE_CHECKING:
    import pandas as pd

    from recexp.data.ratings import Ratings
    from recexp.data.source import Source

GENRES_100K = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip
OCCUPATIONS_1M = (
    "other", "academic/educator", "artist", "clerical/admin", "college/grad student",
    "customer service", "doctor/health care", "executive/managerial", "farmer", "homemaker",
    "K-12 student", "lawyer", "programmer", "retired", "sales/marketing", "scientist",
    "self-employed", "technician/engineer", "tradesman/craftsman", "unemployed", "writer",
)  # fmt: skip


@dataclass(frozen=True)
class Layout:
    """One release: archive, ratings file and format, rating scale, side-feature files."""

    archive: str
    ratings: str
    format: Literal["tab", "dat", "csv"]
    scale: tuple[float, float, float]
    users: str | None
    items: str | None
    cache: bool = False  # keep a parsed Parquet copy (the big releases)


STARS, HALF = (1.0, 5.0, 1.0), (0.5, 5.0, 0.5)
LAYOUTS = {
    "movielens-100k": Layout("ml-100k.zip", "u.data", "tab", STARS, "u.user", "u.item"),
    "movielens-1m": Layout("ml-1m.zip", "ratings.dat", "dat", STARS, "users.dat", "movies.dat"),
    "movielens-10m": Layout("ml-10m.zip", "ratings.dat", "dat", HALF, None, "movies.dat", True),
    "movielens-20m": Layout("ml-20m.zip", "ratings.csv", "csv", HALF, None, "movies.csv", True),
    "movielens-25m": Layout("ml-25m.zip", "ratings.csv", "csv", HALF, None, "movies.csv", True),
    "movielens-latest-small": Layout(
        "ml-latest-small.zip", "ratings.csv", "csv", HALF, None, "movies.csv"
    ),
}

MovieLensName = Literal[
    "movielens-100k",
    "movielens-1m",
    "movielens-10m",
    "movielens-20m",
    "movielens-25m",
    "movielens-latest-small",
]


class MovieLensOptions(FileDatasetOptions):
    """A MovieLens release; ``path`` may be the zip, its folder, or the ratings file."""

    name: MovieLensName
    features: bool = Field(True, description="load user and item side features when present")


def read_ratings(source: Source, member: str, layout: Layout) -> pd.DataFrame:
    """The raw ratings table (user, item, rating, timestamp) of one native file."""
    import numpy as np

    from recexp.data.clean import read_table
    from recexp.errors import DataError

    names = ["user", "item", "rating", "timestamp"]
    types = [np.int32, np.int32, np.float32, np.int64]
    if layout.format == "tab":
        by_name = dict(zip(names, types, strict=True))
        return read_table(source, member, sep="\t", header=None, names=names, dtype=by_name)
    if layout.format == "dat":  # split on ":"; "::" leaves empty columns 1, 3, 5
        by_position = dict(zip([0, 2, 4, 6], types, strict=True))
        frame = read_table(source, member, sep=":", header=None, names=range(7), dtype=by_position)
        stray = frame[[1, 3, 5]].notna().any(axis=1).to_numpy()
        if stray.any():
            row = int(np.flatnonzero(stray)[0]) + 1
            raise DataError(
                f"line {row} is not UserID::MovieID::Rating::Timestamp", file=source.label(member)
            )
        return frame[[0, 2, 4, 6]].set_axis(names, axis=1)
    header = ["userId", "movieId", "rating", "timestamp"]
    frame = read_table(source, member, dtype=dict(zip(header, types, strict=True)))
    return frame.rename(columns={"userId": "user", "movieId": "item"})


def _text_table(source: Source, member: str, sep: str, names: list[str]) -> pd.DataFrame:
    """A small ``sep``-separated text file (UTF-8, else latin-1), every column as text."""
    import pandas as pd

    from recexp.errors import DataError

    with source.open(member) as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    if len(sep) > 1:
        text, sep = text.replace(sep, "\x1f"), "\x1f"
    try:
        return pd.read_csv(
            io.StringIO(text), sep=sep, header=None, names=names, dtype=str, quoting=3
        )
    except (ValueError, pd.errors.EmptyDataError) as error:
        raise DataError(f"cannot parse: {error}", file=source.label(member)) from None


def _items(source: Source, layout: Layout) -> pd.DataFrame:
    import pandas as pd

    assert layout.items is not None
    if layout.items == "u.item":
        flags = [f"g{i}" for i in range(len(GENRES_100K))]
        raw = _text_table(source, "u.item", "|", ["item", "title", "date", "video", "url", *flags])
        on = raw[flags].fillna("0").to_numpy() == "1"
        genres = [[g for g, hit in zip(GENRES_100K, row, strict=True) if hit] for row in on]
        released = pd.to_numeric(raw["date"].str[-4:], errors="coerce")
    elif layout.items == "movies.dat":
        raw = _text_table(source, "movies.dat", "::", ["item", "title", "genres"])
    else:
        raw = _read_csv_text(source, "movies.csv").rename(columns={"movieId": "item"})
    if layout.items != "u.item":
        listed = raw["genres"].fillna("").str.replace("(no genres listed)", "", regex=False)
        genres = [[g for g in text.split("|") if g] for text in listed]
        released = pd.Series(pd.NA, index=raw.index)
    year = pd.to_numeric(raw["title"].str.extract(r"\((\d{4})\)\s*$")[0], errors="coerce")
    frame = pd.DataFrame(
        {"title": raw["title"].str.strip(), "year": year.fillna(released).astype("Int64")}
    )
    frame["genres"] = genres
    frame.index = pd.Index(raw["item"].astype("int32"), name="item")
    return frame


def _read_csv_text(source: Source, member: str) -> pd.DataFrame:
    from recexp.data.clean import read_table

    return read_table(source, member, dtype=str)


def _users(source: Source, layout: Layout) -> pd.DataFrame:
    import pandas as pd

    if layout.users == "u.user":
        raw = _text_table(source, "u.user", "|", ["user", "age", "gender", "occupation", "zip"])
    else:
        raw = _text_table(source, "users.dat", "::", ["user", "gender", "age", "occupation", "zip"])
        codes = pd.to_numeric(raw["occupation"], errors="coerce")
        raw["occupation"] = codes.map(dict(enumerate(OCCUPATIONS_1M)))
    frame = raw[["age", "gender", "occupation", "zip"]].copy()
    frame["age"] = pd.to_numeric(frame["age"], errors="coerce").astype("Int64")
    frame.index = pd.Index(raw["user"].astype("int32"), name="user")
    return frame


def load_movielens(options: MovieLensOptions, ratings_member: str | None = None) -> Ratings:
    """Load the release ``options.name``; ``ratings_member`` reads e.g. ``u1.base`` instead."""
    from recexp.data.clean import finish
    from recexp.data.ratings import RatingScale
    from recexp.data.source import cached_frame, locate

    layout = LAYOUTS[options.name]
    source = locate(options, ARCHIVES[layout.archive], [layout.ratings])
    member = ratings_member or layout.ratings
    if layout.cache:
        stamp = source.stamp(member)
        frame = cached_frame(stamp, options.name, lambda: read_ratings(source, member, layout))
    else:
        frame = read_ratings(source, member, layout)
    users = items = None
    if options.features and layout.users and source.has(layout.users):
        users = _users(source, layout)
    if options.features and layout.items and source.has(layout.items):
        items = _items(source, layout)
    info = {"user_features": users is not None, "item_features": items is not None}
    scale = RatingScale(*layout.scale)
    first_line = 2 if layout.format == "csv" else 1
    return finish(frame, options, source.label(member), scale=scale, info=info,
                  user_features=users, item_features=items, first_line=first_line)  # fmt: skip


def load_fold(options: MovieLensOptions, fold: str) -> tuple[Ratings, Ratings]:
    """An official ML-100K fold (``u1`` .. ``u5``, ``ua``, ``ub``): its base and test parts."""
    return load_movielens(options, f"{fold}.base"), load_movielens(options, f"{fold}.test")


for _name in LAYOUTS:
    DATASETS.register(_name, options=MovieLensOptions, help=f"MovieLens {_name[10:]} (GroupLens)")(
        load_movielens
    )
