"""Readers for the three MovieLens layouts: exact counts on the real files, schema, order, and bad input."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from movie_genie.data import movielens
from movie_genie.data.archive import Archive
from movie_genie.data.movielens import CanonicalTables, read_movielens
from movie_genie.errors import DataError

from .conftest import TINY_1M, TINY_CSV, make_folder, make_zip


def read(path: Path) -> CanonicalTables:
    with Archive(path) as archive:
        return read_movielens(archive)


@pytest.mark.parametrize("name", ["ml-latest-small.zip", "ml-latest-small"])
def test_ml_latest_small_exact_counts(shared_datasets: Path, name: str) -> None:
    tables = read(shared_datasets / name)
    assert tables.counts() == {"movies": 9_742, "ratings": 100_836, "users": 610, "tags": 3_683}
    assert tables.ratings["movie_id"].nunique() == 9_724
    movies = tables.movies.set_index("movie_id")
    assert movies.loc[1, "title"] == "Toy Story" and movies.loc[1, "year"] == 1995
    assert movies.loc[1, "imdb_id"] == "tt0114709" and movies.loc[1, "tmdb_id"] == 862
    assert movies.loc[73, "title"] == "Les Misérables"
    assert movies["tmdb_id"].isna().sum() == 8  # links.csv has 8 movies without a TMDB id
    assert movies.loc[40697, "title"] == "Babylon 5" and pd.isna(movies.loc[40697, "year"])


@pytest.mark.parametrize("name", ["ml-100k.zip", "ml-100k"])
def test_ml100k_exact_counts(shared_datasets: Path, name: str) -> None:
    tables = read(shared_datasets / name)
    assert tables.counts() == {"movies": 1_682, "ratings": 100_000, "users": 943, "tags": 0}
    movies = tables.movies.set_index("movie_id")
    assert movies.loc[692, "title"] == "The American President" and movies.loc[692, "year"] == 1995
    assert movies.loc[543, "title"] == "Les Misérables"  # u.item is Latin-1
    assert movies.loc[1, "genres"] == ["Animation", "Children's", "Comedy"]
    assert movies.loc[267, "genres"] == []  # the "unknown" flag means no genre
    assert list(tables.users.columns) == ["user_id", "age", "gender", "occupation", "zip_code"]
    assert tables.ratings["rating"].value_counts().sort_index().tolist() == [6_110, 11_370, 27_145, 34_174, 21_201]


def test_ratings_sorted_by_user_then_time_with_ties_in_file_order(shared_datasets: Path) -> None:
    ratings = read(shared_datasets / "ml-100k").ratings
    raw = pd.read_csv(shared_datasets / "ml-100k" / "u.data", sep="\t", names=["u", "m", "r", "t"])
    raw["line"] = np.arange(len(raw))
    # Within a user, equal timestamps must appear in the file's order.
    expected = raw.sort_values(["u", "t", "line"])
    assert ratings["user_id"].tolist() == expected["u"].tolist()
    assert ratings["movie_id"].tolist() == expected["m"].tolist()
    assert ratings["timestamp"].tolist() == expected["t"].tolist()
    assert ratings.dtypes.to_dict() == {
        "user_id": np.dtype("int64"),
        "movie_id": np.dtype("int64"),
        "rating": np.dtype("float32"),
        "timestamp": np.dtype("int64"),
    }


def test_tiny_csv_layout(tmp_path: Path) -> None:
    tables = read(make_zip(tmp_path / "tiny.zip", "ml-tiny", TINY_CSV))
    assert tables.movies["title"].tolist() == ["The American President", "Les Misérables", "Babylon 5", "Hyena Road"]
    assert tables.movies["genres"].tolist()[3] == []
    assert tables.movies["tmdb_id"].tolist()[:2] == [9087, pd.NA]
    # user 1: t=5 (movie 3), then the tie at t=10 in file order (movie 2 before movie 1), then t=20.
    user1 = tables.ratings[tables.ratings["user_id"] == 1]
    assert user1["movie_id"].tolist() == [3, 2, 1, 4]
    assert tables.ratings["user_id"].tolist() == [1, 1, 1, 1, 2, 2, 2, 3]
    assert tables.tags["tag"].tolist() == ["politics", "space, station"]
    assert tables.users["user_id"].tolist() == [1, 2, 3]


def test_tiny_ml1m_layout(tmp_path: Path) -> None:
    tables = read(make_folder(tmp_path / "ml-1m", TINY_1M))
    assert tables.movies["title"].tolist() == ["Toy Story", "La Cité des enfants perdus"]
    assert tables.users["occupation"].tolist() == ["K-12 student", "self-employed"]
    assert tables.users["age"].tolist() == [1, 56]
    assert tables.counts() == {"movies": 2, "ratings": 3, "users": 2, "tags": 0}


# --- bad input -------------------------------------------------------------------------------------------------


def test_corrupt_zip(tmp_path: Path, shared_datasets: Path) -> None:
    broken = tmp_path / "ml-100k.zip"
    broken.write_bytes((shared_datasets / "ml-100k.zip").read_bytes()[:50_000])  # truncated download
    with pytest.raises(DataError, match="not a readable zip file"):
        Archive(broken)


def test_corrupt_member(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "tiny.zip", "ml-tiny", {**TINY_CSV, "ratings.csv": TINY_CSV["ratings.csv"] * 200})
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("ml-tiny/ratings.csv")
    start = info.header_offset + 30 + len(info.filename) + 10
    data[start : start + 20] = b"\x00" * 20  # damage the compressed bytes, keep the directory intact
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"ratings\.csv is corrupt"):
        read(path)


def test_missing_member(tmp_path: Path) -> None:
    files = {k: v for k, v in TINY_CSV.items() if k != "movies.csv"}
    with pytest.raises(DataError, match=r"lacks movies\.csv"):
        read(make_zip(tmp_path / "tiny.zip", "ml-tiny", files))


def test_no_ratings_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="holds no MovieLens ratings file"):
        read(make_folder(tmp_path / "empty", {"README.txt": "nothing here"}))


RATINGS_HEADER = "userId,movieId,rating,timestamp\n"


@pytest.mark.parametrize(
    ("member", "content", "message"),
    [
        ("ratings.csv", RATINGS_HEADER + "1,1,4.0,10\n1,2,four,11\n", r"ratings\.csv, line 3: column rating"),
        ("ratings.csv", RATINGS_HEADER + "1,1,4.0,10\n1,2,4.0\n", r"ratings\.csv, line 3: expected 4 fields"),
        ("ratings.csv", RATINGS_HEADER + "1,1,4.0,10,9\n", r"ratings\.csv, line 2: expected 4 fields"),
        ("ratings.csv", RATINGS_HEADER + "1,1,,10\n", r"ratings\.csv, line 2: column rating"),
        ("ratings.csv", "user,movie,rating,timestamp\n1,1,4.0,10\n", r"missing column\(s\) userId, movieId"),
        ("movies.csv", "movieId,title,genres\n1,Heat,Action\nx,Up,Drama\n", r"movies\.csv, line 3: column movieId"),
        ("links.csv", "movieId,imdbId,tmdbId\n1,0112346,abc\n", r"links\.csv, line 2: column tmdbId"),
        ("ratings.csv", RATINGS_HEADER + "1,99,4.0,10\n", r"1 rated movie id\(s\) are missing"),
    ],
)  # fmt: skip
def test_malformed_rows_name_file_and_line(tmp_path: Path, member: str, content: str, message: str) -> None:
    folder = make_folder(tmp_path / "bad", {**TINY_CSV, member: content})
    with pytest.raises(DataError, match=message):
        read(folder)


def test_malformed_row_in_tab_file(tmp_path: Path, shared_datasets: Path) -> None:
    files = {p.name: p.read_bytes() for p in (shared_datasets / "ml-100k").iterdir()}
    lines = files["u.data"].split(b"\n")
    lines[41] = b"196\t242\t3"  # line 42 lost its timestamp
    files["u.data"] = b"\n".join(lines)
    with pytest.raises(DataError, match=r"u\.data, line 42: expected 4 fields"):
        read(make_folder(tmp_path / "ml-100k", files))


def test_unreadable_encoding(tmp_path: Path) -> None:
    movies = TINY_CSV["movies.csv"].encode("utf-8").replace("Misérables".encode(), "Misérables".encode("latin-1"))  # type: ignore[union-attr]
    with pytest.raises(DataError, match=r"movies\.csv, line 3: not valid utf-8 text"):
        read(make_folder(tmp_path / "bad", {**TINY_CSV, "movies.csv": movies}))


def test_progress_bar_path_reads_the_same(
    shared_datasets: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    quiet = read(shared_datasets / "ml-100k.zip")
    monkeypatch.setattr(movielens, "PROGRESS_BYTES", 0)  # big-file path: bytes counted through a progress bar
    shown = read(shared_datasets / "ml-100k.zip")
    pd.testing.assert_frame_equal(quiet.ratings, shown.ratings)
    pd.testing.assert_frame_equal(quiet.movies, shown.movies)
    assert "u.data" in capsys.readouterr().err


def test_unpacked_zip_folder_one_level_down(tmp_path: Path) -> None:
    make_folder(tmp_path / "download" / "ml-tiny", TINY_CSV)  # what unzipping a GroupLens zip gives
    assert read(tmp_path / "download").counts() == {"movies": 4, "ratings": 8, "users": 3, "tags": 2}
