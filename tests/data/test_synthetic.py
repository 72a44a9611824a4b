"""The synthetic cost data set: sizes per scale, the canonical schema, determinism and the statistics that drive
cost (popularity skew, user activity, per-user time order)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from movie_genie.cli import main
from movie_genie.data.movielens import CanonicalTables
from movie_genie.data.schema import RATING_COLUMNS
from movie_genie.data.synthetic import dataset_name, sizes, synthetic_tables
from movie_genie.data.tables import read_parquet
from movie_genie.errors import DataError


def test_sizes_follow_ml_latest_small_and_reach_ml_32m_at_320x() -> None:
    assert sizes(1) == {"users": 610, "movies": 9_742, "ratings": 100_836, "tags": 3_683}
    big = sizes(320)
    assert 190_000 < big["users"] < 210_000 and 80_000 < big["movies"] < 95_000
    assert 31_000_000 < big["ratings"] < 33_000_000
    with pytest.raises(DataError, match="scale"):
        sizes(0)
    assert dataset_name(10) == "synthetic-10x" and dataset_name(0.5) == "synthetic-0.5x"


@pytest.fixture(scope="module")
def small() -> CanonicalTables:
    return synthetic_tables(1)


def test_tables_are_canonical_and_consistent(small: CanonicalTables) -> None:
    movies, ratings, tags = small.movies, small.ratings, small.tags
    assert list(ratings.columns) == list(RATING_COLUMNS)
    assert ratings.dtypes.astype(str).tolist() == ["int64", "int64", "float32", "int64"]
    assert set(ratings["movie_id"]) <= set(movies["movie_id"]) and set(tags["movie_id"]) <= set(movies["movie_id"])
    assert not ratings.duplicated(["user_id", "movie_id"]).any()
    assert set(np.unique(ratings["rating"])) <= set(np.arange(1, 11) / 2)
    assert movies["title"].str.len().between(2, 80).all() and movies["genres"].map(len).between(1, 6).all()
    # Sorted by user, then time (what the leave-one-out split relies on).
    users, times = ratings["user_id"].to_numpy(), ratings["timestamp"].to_numpy()
    assert np.all(np.diff(users) >= 0)
    same_user = np.diff(users) == 0
    assert np.all(np.diff(times)[same_user] >= 0)
    # Within a few percent of ml-latest-small's 100,836 ratings (repeats dropped, heavy users capped).
    assert 0.9 * 100_836 < len(ratings) <= 100_836


def test_cost_statistics_match_ml_latest_small(small: CanonicalTables) -> None:
    ratings, n_movies = small.ratings, len(small.movies)
    per_film = np.sort(ratings.groupby("movie_id").size().to_numpy())[::-1]
    top1, top10 = per_film[: n_movies // 100].sum() / len(ratings), per_film[: n_movies // 10].sum() / len(ratings)
    assert 0.10 < top1 < 0.25 and 0.45 < top10 < 0.70  # ml-latest-small: 0.16 and 0.60
    per_user = ratings.groupby("user_id").size()
    assert per_user.min() >= 20 and 50 < per_user.median() < 100 and per_user.max() > 1000  # 20, 70.5, 2,698


def test_same_seed_same_tables_other_seed_other_tables() -> None:
    a, b, c = synthetic_tables(0.2, seed=3), synthetic_tables(0.2, seed=3), synthetic_tables(0.2, seed=4)
    assert a.ratings.equals(b.ratings) and a.movies.equals(b.movies) and a.tags.equals(b.tags)
    assert not a.ratings.equals(c.ratings)


def test_cli_writes_a_synthetic_data_set_the_split_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text("models:\n  ease:\n    memory_budget_gib: 0.000001\n")
    for args in (["data", "--synthetic", "0.5"], ["enrich"], ["split"]):
        monkeypatch.setattr(sys, "argv", ["movie-genie", *args])
        main()
    out, err = capsys.readouterr()
    assert "data: synthetic-0.5x from the synthetic generator" in out and "not quality" in out
    # The data stage already says that EASE will not fit, naming the stage and the memory.
    assert "warning: train: EASE would need about" in err and "films" in err
    info = json.loads((tmp_path / "data" / "canonical" / "dataset.json").read_text())
    assert info["name"] == "synthetic-0.5x" and info["users"] == 305
    train = read_parquet(tmp_path / "data" / "split" / "train.parquet")
    assert len(train) > 40_000
