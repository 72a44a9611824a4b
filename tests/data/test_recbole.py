"""MovieLens 100K from the recbole wheel equals the GroupLens files, as far as the wheel carries the same fields."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from movie_genie.data.archive import Archive
from movie_genie.data.movielens import read_movielens
from movie_genie.data.recbole import RECBOLE_WHEEL, RECBOLE_WHEEL_SHA256, read_recbole_ml100k
from movie_genie.data.sources import fetch_recbole_wheel
from movie_genie.errors import DataError


def test_wheel_is_the_pinned_one(recbole_wheel: Path) -> None:
    assert hashlib.sha256(recbole_wheel.read_bytes()).hexdigest() == RECBOLE_WHEEL_SHA256


def test_wheel_tables_equal_grouplens_tables(recbole_wheel: Path, shared_datasets: Path) -> None:
    with Archive(recbole_wheel) as wheel:
        from_wheel = read_recbole_ml100k(wheel)
    with Archive(shared_datasets / "ml-100k") as folder:
        from_grouplens = read_movielens(folder)
    # .inter is u.data row for row, so the sorted ratings are identical, ties included.
    pd.testing.assert_frame_equal(from_wheel.ratings, from_grouplens.ratings)
    # .item carries id, title, year and genres (not u.item's release date or IMDb URL, which we do not keep either).
    pd.testing.assert_frame_equal(from_wheel.movies, from_grouplens.movies)
    # .user carries every u.user field.
    pd.testing.assert_frame_equal(from_wheel.users, from_grouplens.users)
    assert from_wheel.counts() == {"movies": 1_682, "ratings": 100_000, "users": 943, "tags": 0}


def test_bad_cached_wheel_is_removed(tmp_path: Path) -> None:
    wheel = tmp_path / RECBOLE_WHEEL
    wheel.write_bytes(b"not the wheel")
    with pytest.raises(
        DataError, match=f"checksum mismatch for .*{RECBOLE_WHEEL}: expected sha256 {RECBOLE_WHEEL_SHA256}, got "
    ):
        fetch_recbole_wheel(tmp_path)
    assert not wheel.exists()
