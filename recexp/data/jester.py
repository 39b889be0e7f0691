"""Jester dataset 1 (Goldberg et al., Eigentaste): 73,421 users x 100 jokes, -10..10.

Each part ``p`` (1, 2, 3) is a zip ``jester_dataset_1_p.zip`` holding one Excel 97 sheet
``jester-data-p.xls``, no header: column 0 counts the jokes the user rated, columns
1..100 are jokes 1..100, and ``99`` means not rated. A CSV copy of the sheet
(``jester-data-p.csv``, same layout) works too. User ids are ``p * 100000 + row``
(row 1-based), so they stay the same whichever parts are loaded. Each part is parsed
once and kept as Parquet in the cache, so later loads skip the slow Excel reader.
"""

from __future__ import annotations

import io
from functools import partial
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator

from recexp.data.base import DATASETS, FileDatasetOptions
from recexp.data.download import ARCHIVES

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from recexp.data.ratings import Ratings
    from recexp.data.source import Source

NOT_RATED = 99.0
JOKES = 100
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class JesterOptions(FileDatasetOptions):
    """Jester dataset 1; ``path`` may be a folder holding the zips or sheets, or one of them."""

    name: Literal["jester"] = "jester"
    parts: list[Literal[1, 2, 3]] = Field([1, 2, 3], min_length=1, description="which parts")

    @field_validator("parts")
    @classmethod
    def _distinct(cls, parts: list[int]) -> list[int]:
        if len(set(parts)) != len(parts):
            raise ValueError(f"parts must not repeat (got {parts})")
        return sorted(parts)


def _sheet(data: bytes, label: str) -> np.ndarray:
    """The first sheet of an Excel 97 workbook as a float matrix (empty cells are NaN)."""
    import numpy as np
    import xlrd

    from recexp.errors import DataError

    try:
        sheet = xlrd.open_workbook(file_contents=data, on_demand=True).sheet_by_index(0)
    except (xlrd.XLRDError, AssertionError, ValueError) as error:
        raise DataError(f"cannot read the Excel sheet: {error}", file=label) from None
    rows = [sheet.row_values(r) for r in range(sheet.nrows)]
    try:
        return np.array(rows, dtype=np.float64)
    except ValueError:
        return np.array([[v if v != "" else np.nan for v in row] for row in rows], np.float64)


def _matrix(source: Source, member: str) -> np.ndarray:
    import numpy as np
    import pandas as pd

    from recexp.errors import DataError

    label = source.label(member)
    with source.open(member) as f:
        data = f.read()
    if data[:8] == OLE_SIGNATURE:
        matrix = _sheet(data, label)
    else:
        try:
            matrix = pd.read_csv(io.BytesIO(data), header=None, dtype=np.float64).to_numpy()
        except (ValueError, pd.errors.EmptyDataError) as error:
            raise DataError(f"cannot parse the CSV sheet: {error}", file=label) from None
    if matrix.ndim != 2 or matrix.shape[1] != JOKES + 1:
        raise DataError(
            f"expected {JOKES + 1} columns (count, then jokes 1..{JOKES})",
            file=label,
            got=matrix.shape[1] if matrix.ndim == 2 else 0,
        )
    return matrix


def read_part(source: Source, member: str, part: int) -> pd.DataFrame:
    """One part in long form: user, item (joke 1..100), rating; 99s left out."""
    import numpy as np
    import pandas as pd

    matrix = _matrix(source, member)
    values = matrix[:, 1:]
    rated = (values != NOT_RATED) & ~np.isnan(values)
    rows, cols = np.nonzero(rated)
    return pd.DataFrame(
        {
            "user": (part * 100_000 + rows + 1).astype(np.int32),
            "item": (cols + 1).astype(np.int32),
            "rating": values[rows, cols].astype(np.float32),
            "declared": np.repeat(matrix[:, 0], rated.sum(axis=1)).astype(np.float32),
        }
    )


@DATASETS.register("jester", options=JesterOptions, help="Jester dataset 1 jokes, -10..10")
def load_jester(options: JesterOptions) -> Ratings:
    """Load the chosen parts of Jester dataset 1."""
    import numpy as np
    import pandas as pd

    from recexp.data.clean import finish
    from recexp.data.ratings import RatingScale
    from recexp.data.source import cached_frame, locate
    from recexp.errors import ConfigError

    one_file = options.path is not None and options.path.expanduser().is_file()
    if one_file and len(options.parts) > 1:
        raise ConfigError(
            "dataset.path is one file, so parts must name the one part it holds",
            key="dataset.parts",
            got=options.parts,
        )
    frames, labels = [], []
    for part in options.parts:
        members = [f"jester-data-{part}.xls", f"jester-data-{part}.csv"]
        source = locate(options, ARCHIVES[f"jester_dataset_1_{part}.zip"], members)
        member = next(m for m in members if source.has(m))
        stamp = source.stamp(member)
        build = partial(read_part, source, member, part)
        frames.append(cached_frame(stamp, f"jester-{part}", build))
        labels.append(source.label(member))
    frame = pd.concat(frames, ignore_index=True)
    users, declared = frame["user"].to_numpy(), frame["declared"].to_numpy()
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])  # each user's rows are adjacent
    sizes = np.diff(np.r_[starts, len(users)])
    mismatch = int((declared[starts] != sizes).sum())
    info = {"parts": options.parts, "count_mismatch_users": mismatch}
    frame = frame.drop(columns="declared")
    return finish(frame, options, ", ".join(labels), scale=RatingScale(-10.0, 10.0), info=info)
