"""`db load`: counts match the files, a second run changes nothing, app data survives, bad input writes nothing."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, delete, func, select

from movie_genie.cli import cli
from movie_genie.data.archive import Archive
from movie_genie.data.movielens import read_movielens
from movie_genie.db.config import DatabaseParams
from movie_genie.db.engine import make_session_factory
from movie_genie.db.feedback import add_feedback, user_history
from movie_genie.db.load import LoadReport, load_processed
from movie_genie.db.migrate import head_revision, schema_diff, table_counts
from movie_genie.db.models import Base, Movie, MovieGenre, Rating, User
from movie_genie.db.movies import get_movie
from movie_genie.db.users import create_user
from movie_genie.errors import ArtifactMissingError, DataError

from .conftest import Slice, write_processed


def checksum(engine: Engine) -> str:
    """sha256 over every row of every table, in primary-key order."""
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            digest.update(f"{table.name}:{len(rows)}:{[tuple(r) for r in rows]!r}".encode())
    return digest.hexdigest()


def _load(engine: Engine, folder: Path, force: bool = False) -> LoadReport:
    return load_processed(engine, folder, dataset_name="ml-100k", progress=False, force=force)


def test_counts_and_aggregates_match_the_files(engine: Engine, ml_slice: Slice) -> None:
    counts = table_counts(engine)
    assert counts["movies"] == len(ml_slice.movies) == 1682
    assert counts["users"] == len(ml_slice.users)
    assert counts["ratings"] == len(ml_slice.ratings)
    assert counts["movie_genres"] == sum(len(g) for g in ml_slice.movies["genres"])
    expected = ml_slice.ratings.groupby("movie_id")["rating"].agg(["count", "mean"])
    with engine.connect() as conn:
        rows = conn.execute(select(Movie.movie_id, Movie.rating_count, Movie.rating_mean)).all()
        # seq numbers each user's ratings 0..n-1 in time order
        max_seq = dict(conn.execute(select(Rating.user_id, func.max(Rating.seq)).group_by(Rating.user_id)).all())
    for movie_id, count, mean in rows:
        if movie_id in expected.index:
            assert count == expected.loc[movie_id, "count"]
            assert mean == pytest.approx(expected.loc[movie_id, "mean"], abs=1e-6)
        else:
            assert (count, mean) == (0, None)
    assert max_seq == (ml_slice.ratings.groupby("user_id").size() - 1).to_dict()


def test_loading_twice_changes_nothing_and_app_data_survives_a_forced_reload(
    fresh_engine: Callable[[], Engine], ml_slice: Slice
) -> None:
    engine = fresh_engine()
    first = _load(engine, ml_slice.processed_dir)
    before = checksum(engine)
    second = _load(engine, ml_slice.processed_dir)
    assert second.changed is False
    assert checksum(engine) == before
    # A forced reload rewrites every data set row and must produce the very same rows.
    _load(engine, ml_slice.processed_dir, force=True)
    assert checksum(engine) == before
    assert schema_diff(engine) == []  # PostgreSQL's load drops and re-adds the ratings' foreign keys
    # Rows changed behind the loader's back are noticed (stored row counts) and restored by a plain load.
    with engine.begin() as conn:
        conn.execute(delete(Rating).where(Rating.user_id == 1))
    assert _load(engine, ml_slice.processed_dir).changed is True
    assert checksum(engine) == before
    assert first.changed is True

    with make_session_factory(engine)() as session:
        user = create_user(session, "Grace", [1, 50])
        add_feedback(session, 1, 50, "rating", 2.5)
    with_feedback = checksum(engine)
    report = _load(engine, ml_slice.processed_dir, force=True)
    assert checksum(engine) == with_feedback
    assert report.app_users == 1 and report.feedback_events == 3
    with make_session_factory(engine)() as session:
        assert user_history(session, user.user_id).movie_ids == [1, 50]


def test_changed_files_are_reloaded_and_stale_rows_removed_unless_feedback_needs_them(
    fresh_engine: Callable[[], Engine], ml_slice: Slice, tmp_path: Path
) -> None:
    engine = fresh_engine()
    _load(engine, ml_slice.processed_dir)
    with make_session_factory(engine)() as session:
        add_feedback(session, 2, 1682, "watched")  # pins movie 1682 and user 2
    movies = ml_slice.movies[~ml_slice.movies["movie_id"].isin([1681, 1682])]
    ratings = ml_slice.ratings[
        ~ml_slice.ratings["movie_id"].isin([1681, 1682]) & ~ml_slice.ratings["user_id"].isin([2, 3])
    ]
    users = ml_slice.users[~ml_slice.users["user_id"].isin([2, 3])]
    folder = write_processed(tmp_path / "p", movies, users, ratings, "ml-100k")
    report = _load(engine, folder)
    assert report.changed is True
    with engine.connect() as conn:
        movie_ids = set(conn.execute(select(Movie.movie_id)).scalars())
        user_ids = set(conn.execute(select(User.user_id)).scalars())
        assert conn.execute(select(func.count()).select_from(Rating)).scalar_one() == len(ratings)
    assert 1681 not in movie_ids and 1682 in movie_ids
    assert 3 not in user_ids and 2 in user_ids


def test_missing_files_and_bad_rows_fail_clearly_and_write_nothing(
    fresh_engine: Callable[[], Engine], ml_slice: Slice, tmp_path: Path
) -> None:
    engine = fresh_engine()
    with pytest.raises(ArtifactMissingError, match="movie-genie data"):
        _load(engine, tmp_path / "nowhere")
    assert table_counts(engine) == {}  # bad input does not even create the schema
    _load(engine, ml_slice.processed_dir)
    before = checksum(engine)
    bad = ml_slice.ratings.copy()
    bad.loc[bad.index[-1], "rating"] = 7.0
    with pytest.raises(DataError, match=r"1 ratings outside 0.5..5.0"):
        _load(engine, write_processed(tmp_path / "bad", ml_slice.movies, ml_slice.users, bad, "ml-100k"))
    unknown = pd.concat(
        [ml_slice.ratings, pd.DataFrame([{"user_id": 1, "movie_id": 99999, "rating": 3.0, "timestamp": 1}])]
    )
    with pytest.raises(DataError, match=r"missing from movies\.parquet"):
        _load(engine, write_processed(tmp_path / "unk", ml_slice.movies, ml_slice.users, unknown, "ml-100k"))
    missing_col = ml_slice.movies.drop(columns=["genres"])
    with pytest.raises(DataError, match=r"lacks columns \['genres'\]"):
        _load(engine, write_processed(tmp_path / "col", missing_col, ml_slice.users, ml_slice.ratings, "ml-100k"))
    long_title = ml_slice.movies.copy()
    long_title.loc[0, "title"] = "x" * 501
    with pytest.raises(DataError, match="'title' holds a value of 501 characters"):
        _load(engine, write_processed(tmp_path / "long", long_title, ml_slice.users, ml_slice.ratings, "ml-100k"))
    assert checksum(engine) == before


def test_a_different_data_set_is_refused_while_app_feedback_exists(
    fresh_engine: Callable[[], Engine], ml_slice: Slice, tmp_path: Path
) -> None:
    engine = fresh_engine()
    _load(engine, ml_slice.processed_dir)
    other = write_processed(tmp_path / "o", ml_slice.movies, ml_slice.users, ml_slice.ratings, "ml-latest-small")
    with make_session_factory(engine)() as session:
        add_feedback(session, 1, 1, "like")
    with pytest.raises(DataError, match="--reset"):
        _load(engine, other)


def test_cli_db_upgrade_load_and_stats(ml_slice: Slice, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data_dir = tmp_path / "data"
    write_processed(data_dir / "processed", ml_slice.movies, ml_slice.users, ml_slice.ratings, "ml-100k")
    params = tmp_path / "params.yaml"
    params.write_text(
        json.dumps({"paths": {"data_dir": str(data_dir)}, "database": {"load_batch_size": 1000}}), encoding="utf-8"
    )
    monkeypatch.delenv("DATABASE_URL", raising=False)  # the default: SQLite in the data folder
    runner = CliRunner()
    result = runner.invoke(cli, ["--params", str(params), "db", "upgrade"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"revision {head_revision()}" in result.output
    result = runner.invoke(cli, ["--params", str(params), "db", "load"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"{len(ml_slice.ratings)} ratings" in result.output and "ml-100k loaded" in result.output
    result = runner.invoke(cli, ["--params", str(params), "db", "load"], catch_exceptions=False)
    assert "already up to date" in result.output
    result = runner.invoke(cli, ["--params", str(params), "db", "stats"], catch_exceptions=False)
    assert f"{len(ml_slice.ratings):,}" in result.output
    assert (data_dir / "movie_genie.db").exists()
    assert os.environ.get("DATABASE_URL") is None


def test_genre_table_matches_the_files(engine: Engine, ml_slice: Slice) -> None:
    with engine.connect() as conn:
        pairs = set(conn.execute(select(MovieGenre.movie_id, MovieGenre.genre)))
    expected = {
        (m, g) for m, gs in zip(ml_slice.movies["movie_id"], ml_slice.movies["genres"], strict=True) for g in gs
    }
    assert pairs == expected


def test_each_movie_keeps_its_most_frequent_user_tags(
    fresh_engine: Callable[[], Engine], shared_datasets: Path, tmp_path: Path
) -> None:
    """Real ml-latest-small tags (movies 1..300): each film's tags by how many users gave them, reloaded on change."""
    with Archive(shared_datasets / "ml-latest-small.zip") as archive:
        tables = read_movielens(archive)
    ratings = tables.ratings[tables.ratings["movie_id"] <= 300]
    movies = tables.movies[tables.movies["movie_id"] <= 300]
    folder = write_processed(tmp_path / "processed", movies, tables.users, ratings, "ml-latest-small")
    tags = tables.tags[tables.tags["movie_id"] <= 300]
    tags.to_parquet(folder / "tags.parquet", index=False)
    # The reference, counted independently: (movie, lower-cased tag) -> users, most first, ties alphabetical.
    counted = tags.assign(tag=tags["tag"].str.strip().str.lower()).groupby(["movie_id", "tag"]).size()
    expected = {
        int(m): [t for t, _ in sorted(group.droplevel(0).items(), key=lambda kv: (-kv[1], kv[0]))][:10]
        for m, group in counted.groupby(level=0)
    }
    engine = fresh_engine()
    load_processed(engine, folder, dataset_name="ml-latest-small", progress=False)
    with make_session_factory(engine)() as session:
        stored = {m: get_movie(session, m).tags for m in movies["movie_id"]}
    assert stored == {int(m): expected.get(int(m), []) for m in movies["movie_id"]}
    assert stored[1] == ["pixar", "fun"]  # two users tagged Toy Story "pixar", one "fun"
    assert len(stored[296]) == 10 and stored[296][0] == "cult film" and stored[4] == []  # Pulp Fiction: 181

    params = DatabaseParams(movie_tags=2)
    report = load_processed(engine, folder, dataset_name="ml-latest-small", params=params, progress=False)
    assert report.changed  # the number of tags shapes the rows: a new value reloads
    tags[tags["movie_id"] != 1].to_parquet(folder / "tags.parquet", index=False)  # so do changed tags
    assert load_processed(engine, folder, dataset_name="ml-latest-small", params=params, progress=False).changed
    with make_session_factory(engine)() as session:
        assert get_movie(session, 1).tags == []
        assert get_movie(session, 296).tags == expected[296][:2]
