"""What the app says about metadata: how much of the catalogue has plot summaries and posters (GET
/api/catalogue), and the user tags on a film's details."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select, update

from movie_genie.api.services import Database, count_catalogue_metadata
from movie_genie.config import Params, Settings
from movie_genie.db.engine import make_engine
from movie_genie.db.load import load_processed
from movie_genie.db.models import Movie
from tests.artefacts import Artefacts


@pytest.fixture(scope="module")
def engine(artefacts: Artefacts) -> Iterator[Engine]:
    """The session app's database."""
    engine = make_engine(artefacts.database_url)
    yield engine
    engine.dispose()


def test_catalogue_says_there_is_no_metadata(client: FlaskClient, engine: Engine) -> None:
    body = client.get("/api/catalogue").get_json()
    with engine.connect() as conn:
        movies = conn.execute(select(func.count()).select_from(Movie)).scalar_one()
    # The session's artefacts are built without a metadata CSV or TMDB_API_KEY, as a plain `make run` is.
    assert body["data"] == {"movies": movies, "with_overview": 0, "with_poster": 0}
    assert movies > 0 and body["meta"]["took_ms"] >= 0


def test_catalogue_counts_overviews_and_posters(tmp_path: Path) -> None:
    """Three films: two with a plot summary, one with a poster (real ml-latest-small titles and TMDB values)."""
    processed = tmp_path / "processed"
    processed.mkdir()
    pd.DataFrame(
        {
            "movie_id": [1, 2, 3],
            "title": ["Toy Story", "Jumanji", "Grumpier Old Men"],
            "year": [1995, 1995, 1995],
            "genres": [["Animation"], ["Adventure"], ["Comedy"]],
            "overview": ["Led by Woody, Andy's toys live happily in his room.", "A magical board game.", None],
            "poster_path": ["/rhIRbceoE9lR4veEXuwCC2wARtG.jpg", None, None],
        }
    ).to_parquet(processed / "movies.parquet", index=False)
    pd.DataFrame({"user_id": [1], "movie_id": [1], "rating": [4.0], "timestamp": [964982703]}).to_parquet(
        processed / "ratings.parquet", index=False
    )
    url = f"sqlite:///{tmp_path / 'movie_genie.db'}"
    load_processed(make_engine(url), processed, dataset_name="ml-latest-small", progress=False)
    settings = Settings(database_url=url, redis_url=None, tmdb_api_key=None, cors_origins=())
    info = count_catalogue_metadata(Database(settings, Params()))
    assert (info.movies, info.with_overview, info.with_poster) == (3, 2, 1)


def test_movie_details_carry_the_films_user_tags(client: FlaskClient, engine: Engine) -> None:
    """Tags stored by `db load` (tests/db checks how) come back on the details, most frequent first."""
    with engine.begin() as conn:
        before = conn.execute(select(Movie.tags).where(Movie.movie_id == 1)).scalar_one()
        conn.execute(update(Movie).where(Movie.movie_id == 1).values(tags=["pixar", "fun"]))
    try:
        assert client.get("/api/movies/1").get_json()["data"]["tags"] == ["pixar", "fun"]
    finally:
        with engine.begin() as conn:
            conn.execute(update(Movie).where(Movie.movie_id == 1).values(tags=before))
