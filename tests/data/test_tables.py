"""Atomic, typed Parquet IO."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from movie_genie.data.tables import read_tables, write_tables
from movie_genie.files import atomic_dir


def _tables() -> dict[str, pd.DataFrame]:
    movies = pd.DataFrame(
        {"movie_id": [1, 2], "title": ["A", "B"], "year": pd.array([1995, None], dtype="Int64"), "genres": [[], []]}
    )
    ratings = pd.DataFrame({"user_id": [1], "movie_id": [1], "rating": [4.0], "timestamp": [5]})
    users = pd.DataFrame({"user_id": [1]})
    tags = pd.DataFrame({"user_id": [], "movie_id": [], "tag": [], "timestamp": []})
    return {"movies": movies, "ratings": ratings, "users": users, "tags": tags}


def test_round_trip_with_canonical_types(tmp_path: Path) -> None:
    write_tables(tmp_path / "out", _tables(), {"name": "tiny"})
    schema = pq.read_schema(tmp_path / "out" / "movies.parquet")
    genres = schema.field("genres").type
    assert pa.types.is_list(genres) and genres.value_type == pa.string()  # even when every list is empty
    assert str(pq.read_schema(tmp_path / "out" / "ratings.parquet").field("rating").type) == "float"
    back = read_tables(tmp_path / "out")
    assert back["movies"]["year"].tolist() == [1995, pd.NA]
    assert back["movies"]["genres"].tolist() == [[], []]
    assert str(pq.read_schema(tmp_path / "out" / "tags.parquet").field("tag").type) == "string"


def test_failed_write_keeps_the_old_output_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "out"
    write_tables(target, _tables(), {"name": "old"})
    broken = {**_tables(), "ratings": pd.DataFrame({"user_id": ["not a number"]})}
    with pytest.raises(Exception):  # noqa: B017 - any failure while writing
        write_tables(target, broken, {"name": "new"})
    assert (target / "dataset.json").read_text().count('"old"') == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_atomic_dir_replaces_whole_folder(tmp_path: Path) -> None:
    target = tmp_path / "out"
    with atomic_dir(target) as tmp:
        (tmp / "a").write_text("1")
    with atomic_dir(target) as tmp:
        (tmp / "b").write_text("2")
    assert sorted(p.name for p in target.iterdir()) == ["b"]
