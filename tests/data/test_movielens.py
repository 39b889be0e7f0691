"""MovieLens loaders on tiny archives in the upstream layouts, and on the real ML-100K."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from recexp.data.base import PredefinedSplit
from recexp.data.movielens import MovieLensOptions, load_movielens
from recexp.data.pipeline import prepare
from recexp.errors import ConfigError, DataError

REAL = Path(__file__).parents[2] / ".." / "shared" / "data"
needs_real = pytest.mark.skipif(
    not (REAL / "ml-100k" / "u.data").is_file(), reason="shared/data/ml-100k is absent"
)

GENRE_FLAGS = ["0"] * 19
U_ITEM = [
    "1|Toy Story (1995)|01-Jan-1995||http://x|" + "|".join(["0", "0", "0", "1"] + ["0"] * 15),
    "2|Café Society (1995)|01-Jan-1995||http://x|" + "|".join(["0", "1"] + ["0"] * 17),
    "3|unknown||||" + "|".join(["1"] + ["0"] * 18),
]
U_USER = ["1|24|M|technician|85711", "2|53|F|other|T8H1N"]
U_DATA = "1\t1\t5\t874965758\n1\t2\t3\t876893171\n2\t1\t4\t878542960\n2\t3\t1\t876893119\n"

ML1M_RATINGS = "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n"
ML1M_MOVIES = "1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n661::Zoë: A Tale (1996)::Animation|Children's\n"  # noqa: E501
ML1M_USERS = "1::F::1::10::48067\n2::M::56::16::70072\n"

ML10M_RATINGS = "1::122::5::838985046\n1::185::4.5::838983525\n2::122::0.5::868245777\n"
ML10M_MOVIES = "122::Boomerang (1992)::Comedy|Romance\n185::Net, The (1995)::Action|Crime\n"

CSV_RATINGS = (
    "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.5,964981247\n2,1,0.5,964982224\n"  # noqa: E501
)
CSV_MOVIES = 'movieId,title,genres\n1,Toy Story (1995),Adventure|Animation\n3,"Grumpier Old Men, The (1995)",(no genres listed)\n'  # noqa: E501


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RECEXP_DATA_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def write_zip(path: Path, members: dict[str, str], encoding: str = "utf-8") -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, text in members.items():
            z.writestr(name, text.encode(encoding))
    return path


def ml100k(folder: Path) -> Path:
    members = {
        "ml-100k/u.data": U_DATA,
        "ml-100k/u.item": "\n".join(U_ITEM) + "\n",
        "ml-100k/u.user": "\n".join(U_USER) + "\n",
        "ml-100k/u1.base": U_DATA.split("\n", 1)[1],
        "ml-100k/u1.test": U_DATA.split("\n", 1)[0] + "\n",
    }
    return write_zip(folder / "ml-100k.zip", members, "latin-1")


def test_ml100k_zip_with_features(tmp_path: Path) -> None:
    r = load_movielens(MovieLensOptions(name="movielens-100k", path=ml100k(tmp_path)))
    assert r.frame.shape == (4, 4) and r.frame["user"].dtype == np.int32
    assert r.frame["rating"].dtype == np.float32 and r.frame["timestamp"].dtype == np.int64
    assert (r.scale.min, r.scale.max, r.scale.step) == (1, 5, 1)
    items = r.item_features
    assert items is not None and users_ok(r.user_features)
    assert items.loc[1, "genres"] == ["Animation"] and items.loc[1, "year"] == 1995
    assert items.loc[2, "title"] == "Café Society (1995)"  # latin-1 decoded
    assert items.loc[3, "genres"] == ["unknown"] and items["year"].isna().sum() == 1


def users_ok(users: object) -> bool:
    assert users is not None
    assert users.loc[2, "zip"] == "T8H1N" and users.loc[1, "age"] == 24  # type: ignore[attr-defined]
    return True


def test_ml1m_double_colon_latin1(tmp_path: Path) -> None:
    members = {
        "ml-1m/ratings.dat": ML1M_RATINGS,
        "ml-1m/movies.dat": ML1M_MOVIES,
        "ml-1m/users.dat": ML1M_USERS,
    }
    path = write_zip(tmp_path / "ml-1m.zip", members, "latin-1")
    r = load_movielens(MovieLensOptions(name="movielens-1m", path=path))
    assert r.frame["item"].tolist() == [1193, 661, 1193]
    assert r.item_features is not None and r.user_features is not None
    assert r.item_features.loc[661, "title"] == "Zoë: A Tale (1996)"
    assert r.item_features.loc[661, "genres"] == ["Animation", "Children's"]
    assert r.user_features.loc[2, "occupation"] == "self-employed"


def test_ml10m_half_stars_and_parsed_cache(tmp_path: Path, cache: Path) -> None:
    members = {"ml-10M100K/ratings.dat": ML10M_RATINGS, "ml-10M100K/movies.dat": ML10M_MOVIES}
    path = write_zip(tmp_path / "ml-10m.zip", members)
    options = MovieLensOptions(name="movielens-10m", path=path)
    r = load_movielens(options)
    assert r.frame["rating"].tolist() == [5.0, 4.5, 0.5] and r.scale.step == 0.5
    assert len(list((cache / "parsed").glob("movielens-10m-*.parquet"))) == 1
    assert load_movielens(options).frame.equals(r.frame)
    assert r.user_features is None and r.item_features is not None


@pytest.mark.parametrize(
    ("name", "folder"),
    [
        ("movielens-20m", "ml-20m"),
        ("movielens-25m", "ml-25m"),
        ("movielens-latest-small", "ml-latest-small"),
    ],
)
def test_csv_releases(tmp_path: Path, name: str, folder: str) -> None:
    members = {f"{folder}/ratings.csv": CSV_RATINGS, f"{folder}/movies.csv": CSV_MOVIES}
    path = write_zip(tmp_path / f"{folder}.zip", members)
    r = load_movielens(MovieLensOptions(name=name, path=path))  # type: ignore[arg-type]
    assert r.frame[["user", "item"]].values.tolist() == [[1, 1], [1, 3], [2, 1]]
    assert r.item_features is not None
    assert r.item_features.loc[3, "title"] == "Grumpier Old Men, The (1995)"
    assert r.item_features.loc[3, "genres"] == []


def test_path_may_be_folder_parent_or_single_file(tmp_path: Path) -> None:
    with zipfile.ZipFile(ml100k(tmp_path)) as z:
        z.extractall(tmp_path / "unpacked")
    for path in [tmp_path, tmp_path / "unpacked", tmp_path / "unpacked" / "ml-100k"]:
        r = load_movielens(MovieLensOptions(name="movielens-100k", path=path))
        assert len(r.frame) == 4
    single = tmp_path / "mine.tsv"
    single.write_text(U_DATA)
    r = load_movielens(MovieLensOptions(name="movielens-100k", path=single))
    assert len(r.frame) == 4 and r.item_features is None


def test_cache_folder_is_found(cache: Path) -> None:
    (cache / "ml-100k").mkdir(parents=True)
    (cache / "ml-100k" / "u.data").write_text(U_DATA)
    assert len(load_movielens(MovieLensOptions(name="movielens-100k")).frame) == 4


def test_missing_path_and_missing_member(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="dataset.path: no such file or folder"):
        load_movielens(MovieLensOptions(name="movielens-100k", path=tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="holds no ml-100k.zip or u.data"):
        load_movielens(MovieLensOptions(name="movielens-100k", path=tmp_path / "empty"))


def test_bad_line_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "ml-1m.zip"
    write_zip(path, {"ml-1m/ratings.dat": "1::2::3::4\n1::2::3::4::5::6\n"})
    with pytest.raises(DataError, match="cannot parse the file") as caught:
        load_movielens(MovieLensOptions(name="movielens-1m", path=path))
    assert "\n" not in str(caught.value)


def test_official_fold_through_prepare(tmp_path: Path) -> None:
    split = {"strategy": "predefined", "fold": "u1"}
    options = MovieLensOptions(name="movielens-100k", path=ml100k(tmp_path), split=split)
    data = prepare(options, seed=0)
    assert (len(data.train), len(data.val), len(data.test)) == (3, 0, 1)
    with pytest.raises(DataError, match="ua.base not found"):
        prepare(options.model_copy(update={"split": PredefinedSplit(fold="ua")}), 0)


def test_folds_only_for_ml100k(tmp_path: Path) -> None:
    split = {"strategy": "predefined", "fold": "u1"}
    options = MovieLensOptions(name="movielens-1m", path=tmp_path, split=split)
    with pytest.raises(ConfigError, match="dataset.split.fold: official folds exist only"):
        prepare(options, seed=0)


@needs_real
def test_real_ml100k_by_path_and_by_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    r = load_movielens(MovieLensOptions(name="movielens-100k", path=REAL / "ml-100k"))
    assert len(r.frame) == 100_000
    assert r.frame["user"].nunique() == 943 and r.frame["item"].nunique() == 1682
    assert r.user_features is not None and len(r.user_features) == 943
    assert r.item_features is not None and len(r.item_features) == 1682
    monkeypatch.setenv("RECEXP_DATA_DIR", str(REAL))
    assert len(load_movielens(MovieLensOptions(name="movielens-100k")).frame) == 100_000


@needs_real
def test_real_ml100k_fold_u1() -> None:
    split = {"strategy": "predefined", "fold": "u1"}
    options = MovieLensOptions(name="movielens-100k", path=REAL / "ml-100k", split=split)
    data = prepare(options, seed=42)
    assert (len(data.train), len(data.test)) == (80_000, 20_000)
    assert data.report["train_rows"] == 80_000 and data.report["rows_read"] == 100_000
