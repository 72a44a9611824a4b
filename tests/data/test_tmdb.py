"""The TMDB client against a fake TMDB server on 127.0.0.1: parsing, caching, rate limiting, retries, errors."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from movie_genie.cli import main
from movie_genie.data.enrich import enrich_movies, read_metadata_csv
from movie_genie.data.tables import read_parquet
from movie_genie.data.tmdb import TmdbClient, fetch_metadata_csv
from movie_genie.errors import DataError

from .conftest import TINY_CSV, make_zip

TOY_STORY = {
    "id": 862,
    "imdb_id": "tt0114709",
    "overview": "Led by Woody, Andy's toys live happily in his room.",
    "tagline": "",
    "runtime": 81,
    "release_date": "1995-10-30",
    "original_language": "en",
    "poster_path": "/rhIRbceoE9lR4veEXuwCC2wARtG.jpg",
    "keywords": {"keywords": [{"id": 1, "name": "rescue"}, {"id": 2, "name": "friendship"}]},
    "credits": {
        "cast": [
            *({"name": f"Actor {i}", "order": i} for i in (6, 0, 1, 2, 3, 4, 5)),
            {"name": "Tom Hanks", "order": -1},
        ],
        "crew": [{"name": "John Lasseter", "job": "Director"}, {"name": "Joss Whedon", "job": "Screenplay"}],
    },
}


@dataclass
class FakeTmdb:
    """Serves /3/movie/{id} and /3/find/{imdb}; the first request for movie 8844 gets a 429."""

    api_key: str = "secret"
    calls: list[tuple[float, str]] = field(default_factory=list)
    throttled: bool = False

    def __call__(self, environ: dict, start_response):  # type: ignore[no-untyped-def]
        request = Request(environ)
        self.calls.append((time.monotonic(), request.path))
        auth = request.args.get("api_key") or request.headers.get("Authorization", "").removeprefix("Bearer ")
        if auth != self.api_key:
            response = Response(json.dumps({"status_message": "Invalid API key"}), 401)
        elif request.path == "/3/movie/862" and request.args.get("append_to_response") == "keywords,credits":
            response = Response(json.dumps(TOY_STORY), content_type="application/json")
        elif request.path == "/3/movie/8844":
            if not self.throttled:
                self.throttled = True
                response = Response("slow down", 429, headers={"Retry-After": "0"})
            else:
                response = Response(json.dumps({"id": 8844, "overview": "A magical board game."}))
        elif request.path == "/3/find/tt0113497" and request.args.get("external_source") == "imdb_id":
            response = Response(json.dumps({"movie_results": [{"id": 8844}]}))
        else:
            response = Response(json.dumps({"status_code": 34}), 404)
        return response(environ, start_response)


@pytest.fixture
def tmdb() -> Iterator[tuple[str, FakeTmdb]]:
    app = FakeTmdb()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/3", app
    server.shutdown()


def test_movie_details_are_parsed_and_cached(tmdb: tuple[str, FakeTmdb], tmp_path: Path) -> None:
    url, app = tmdb
    client = TmdbClient("secret", tmp_path, base_url=url)
    details = client.movie(862)
    assert details is not None and details["overview"].startswith("Led by Woody")
    assert client.movie(862) == details and len(app.calls) == 1  # second answer from the disk cache
    assert TmdbClient("secret", tmp_path, base_url=url).movie(862) == details and len(app.calls) == 1
    assert client.movie(1) is None and client.movie(1) is None and len(app.calls) == 2  # 404s are cached too


def test_rate_limit_and_retry_after_429(tmdb: tuple[str, FakeTmdb], tmp_path: Path) -> None:
    url, app = tmdb
    client = TmdbClient("secret", tmp_path, base_url=url, requests_per_second=10)
    start = time.monotonic()
    assert client.find_by_imdb("tt0113497") == 8844
    assert client.movie(8844) == {"id": 8844, "overview": "A magical board game."}  # after one 429
    assert [path for _, path in app.calls] == ["/3/find/tt0113497", "/3/movie/8844", "/3/movie/8844"]
    assert time.monotonic() - start >= 0.2  # 3 requests at most 10 per second: two full intervals between them


def test_bearer_token_and_bad_key(tmdb: tuple[str, FakeTmdb], tmp_path: Path) -> None:
    url, app = tmdb
    app.api_key = "eyJhbGciOiJIUzI1NiJ9.token"
    assert TmdbClient(app.api_key, tmp_path / "a", base_url=url).movie(862) is not None
    with pytest.raises(DataError, match="rejected the API key"):
        TmdbClient("wrong", tmp_path / "b", base_url=url).movie(862)
    with pytest.raises(DataError, match="TMDB_API_KEY is not set"):
        TmdbClient("", tmp_path / "c", base_url=url)


def test_fetched_csv_feeds_enrichment(tmdb: tuple[str, FakeTmdb], tmp_path: Path) -> None:
    url, _ = tmdb
    movies = pd.DataFrame(
        {
            "movie_id": [1, 2, 3],
            "title": ["Toy Story", "Jumanji", "Nothing"],
            "year": pd.array([1995, 1995, None], dtype="Int64"),
            "genres": [[], [], []],
            "imdb_id": ["tt0114709", "tt0113497", None],
            "tmdb_id": pd.array([862, None, None], dtype="Int64"),
        }
    )
    found = fetch_metadata_csv(movies, TmdbClient("secret", tmp_path, base_url=url), tmp_path / "meta.csv")
    assert found == 2
    enriched, coverage = enrich_movies(movies, read_metadata_csv(tmp_path / "meta.csv"))
    toy = enriched.set_index("movie_id").loc[1]
    assert toy["cast"] == ["Tom Hanks", "Actor 0", "Actor 1", "Actor 2", "Actor 3"]  # top 5 by billing order
    assert toy["directors"] == ["John Lasseter"] and toy["keywords"] == ["rescue", "friendship"]
    assert toy["runtime"] == 81 and pd.isna(toy["tagline"])
    assert enriched.set_index("movie_id").loc[2, "tmdb_id"] == 8844  # found through the IMDb id
    assert coverage.fields["overview"] == 2


def test_cli_enrich_from_tmdb(
    tmdb: tuple[str, FakeTmdb], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url, _ = tmdb
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TMDB_API_KEY", "secret")
    monkeypatch.setenv("TMDB_API_URL", url)
    monkeypatch.setenv("MOVIE_GENIE_CACHE", str(tmp_path / "cache"))
    (tmp_path / "params.yaml").write_text("dataset:\n  name: ml-latest-small\n")
    links = "movieId,imdbId,tmdbId\n1,0114709,862\n"
    source = make_zip(tmp_path / "tiny.zip", "ml-tiny", {**TINY_CSV, "links.csv": links})
    for args in (["data", "--source", str(source)], ["enrich", "--from-tmdb"]):
        monkeypatch.setattr(sys, "argv", ["movie-genie", *args])
        main()
    out = capsys.readouterr().out
    assert "matched 1 of 4 movies" in out
    movies = read_parquet(tmp_path / "data" / "processed" / "movies.parquet").set_index("movie_id")
    assert movies.loc[1, "overview"].startswith("Led by Woody")
