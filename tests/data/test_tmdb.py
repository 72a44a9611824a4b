"""The TMDB client against a fake TMDB server on 127.0.0.1: parsing, caching, rate limiting, retries, errors."""

from __future__ import annotations

import json
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from movie_genie.cli import cli, main
from movie_genie.data.enrich import enrich_movies, read_metadata_csv
from movie_genie.data.tables import read_info, read_parquet, read_tables, write_tables
from movie_genie.data.tmdb import CSV_HEADER, TmdbClient, fetch_metadata_csv
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
    """Serves /3/movie/{id} and /3/find/{imdb}; the first request for movie 8844 gets a 429.

    `movies` adds /3/movie/{id} answers (built from real rows of the shared metadata CSV); `revoke_after` makes
    every request after that many answer 401, as when a key is revoked in the middle of a fetch.
    """

    api_key: str = "secret"
    calls: list[tuple[float, str]] = field(default_factory=list)
    throttled: bool = False
    movies: dict[int, dict[str, Any]] = field(default_factory=dict)
    revoke_after: int | None = None

    def paths(self) -> list[str]:
        """The requested paths, in order."""
        return [path for _, path in self.calls]

    def __call__(self, environ: dict, start_response):  # type: ignore[no-untyped-def]
        request = Request(environ)
        self.calls.append((time.monotonic(), request.path))
        auth = request.args.get("api_key") or request.headers.get("Authorization", "").removeprefix("Bearer ")
        revoked = self.revoke_after is not None and len(self.calls) > self.revoke_after
        movie_id = request.path.removeprefix("/3/movie/")
        if auth != self.api_key or revoked:
            response = Response(json.dumps({"status_message": "Invalid API key"}), 401)
        elif movie_id.isdigit() and int(movie_id) in self.movies:
            assert request.args.get("append_to_response") == "keywords,credits"
            response = Response(json.dumps(self.movies[int(movie_id)]), content_type="application/json")
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
    """A fake TMDB on 127.0.0.1 (never the internet): its base URL and the app (which records every request)."""
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


# --- the `tmdb` pipeline stage end to end, on real ml-latest-small movies and real metadata rows -------------------

SLICE_MOVIES = 20  # ml-latest-small movies 1..20: a fetch of the slice takes about a second at 20 requests/s


def _tmdb_answer(row: pd.Series) -> dict[str, Any]:
    """A /movie/{id}?append_to_response=keywords,credits answer as TMDB shapes it, from a row of the shared CSV."""

    def names(value: object) -> list[str]:
        return [n for n in str(value).split("|") if n] if isinstance(value, str) else []

    return {
        "id": int(row["tmdbId"]),
        "imdb_id": f"tt{row['imdbId']}",
        "title": row["title"],
        **{k: (None if pd.isna(row[k]) else row[k]) for k in ("overview", "tagline", "release_date", "poster_path")},
        "original_language": None if pd.isna(row["original_language"]) else row["original_language"],
        "runtime": None if pd.isna(row["runtime"]) else int(row["runtime"]),
        "keywords": {"keywords": [{"id": i, "name": n} for i, n in enumerate(names(row["keywords"]))]},
        "credits": {
            # billing order reversed in the list: the client must sort by `order`, as TMDB's lists need not be
            "cast": [{"name": n, "order": i} for i, n in reversed(list(enumerate(names(row["cast_top5"]))))],
            "crew": [{"name": "Ed", "job": "Editor"}, *({"name": n, "job": "Director"} for n in names(row.directors))],
        },
    }


@pytest.fixture(scope="module")
def real_rows(shared_datasets: Path) -> pd.DataFrame:
    """The shared metadata CSV's rows of the slice's movies (read as text, so imdbId keeps its leading zeros)."""
    frame = pd.read_csv(shared_datasets / "ml-latest-small-tmdb.csv", dtype={"imdbId": str})
    return frame[frame["movieId"] <= SLICE_MOVIES].reset_index(drop=True)


@pytest.fixture(scope="module")
def sliced_canonical(shared_datasets: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """data/canonical of real ml-latest-small cut to movies 1..SLICE_MOVIES (with their links' TMDB ids)."""
    root = tmp_path_factory.mktemp("tmdb-stage")
    params = root / "params.yaml"
    params.write_text(f"paths:\n  data_dir: {root / 'data'}\n  artifacts_dir: {root / 'artifacts'}\n")
    result = CliRunner().invoke(
        cli, ["--params", str(params), "data", "--source", str(shared_datasets / "ml-latest-small.zip")]
    )
    assert result.exit_code == 0, result.output
    canonical = root / "data" / "canonical"
    tables = read_tables(canonical)
    keep = {name: frame[frame["movie_id"] <= SLICE_MOVIES] for name, frame in tables.items() if name != "users"}
    write_tables(canonical, {**keep, "users": tables["users"]}, read_info(canonical))
    return canonical


@dataclass
class Stage:
    """A project folder with the sliced canonical tables, and a way to run `movie-genie <args>` in it."""

    root: Path
    params: Path
    capsys: pytest.CaptureFixture[str]
    monkeypatch: pytest.MonkeyPatch

    @property
    def csv(self) -> Path:
        return self.root / "data" / "tmdb.csv"

    def run(self, *args: str) -> tuple[int, str, str]:
        """Run the console script's main() (exit status as `movie-genie` gives it), with stdout and stderr."""
        self.capsys.readouterr()
        self.monkeypatch.setattr(sys, "argv", ["movie-genie", "--params", str(self.params), *args])
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def stage(
    sliced_canonical: Path,
    tmdb: tuple[str, FakeTmdb],
    real_rows: pd.DataFrame,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Stage:
    """A fresh project (data/ under tmp_path) whose fake TMDB knows the slice's real rows; TMDB_API_KEY unset."""
    url, app = tmdb
    app.movies = {int(row["tmdbId"]): _tmdb_answer(row) for _, row in real_rows.iterrows()}
    shutil.copytree(sliced_canonical, tmp_path / "data" / "canonical")
    params = tmp_path / "params.yaml"
    params.write_text(f"paths:\n  data_dir: {tmp_path / 'data'}\n  artifacts_dir: {tmp_path / 'artifacts'}\n")
    monkeypatch.setenv("TMDB_API_URL", url)  # every test: a request can only ever reach the fake
    monkeypatch.delenv("TMDB_API_KEY", raising=False)
    monkeypatch.delenv("MOVIE_GENIE_CACHE", raising=False)
    return Stage(tmp_path, params, capsys, monkeypatch)


def test_stage_fetches_every_movie_and_enrich_uses_it(
    stage: Stage, tmdb: tuple[str, FakeTmdb], real_rows: pd.DataFrame
) -> None:
    _, app = tmdb
    stage.monkeypatch.setenv("TMDB_API_KEY", "secret")
    code, out, err = stage.run("tmdb")
    assert code == 0, err
    assert len(app.calls) == len(real_rows) == SLICE_MOVIES  # one request per movie, found by its links.csv id
    assert f"metadata for {SLICE_MOVIES} movies ({SLICE_MOVIES} API requests" in out
    assert "TMDB: 100%" in err  # the progress bar
    assert len(list((stage.root / "data" / "cache" / "tmdb" / "movie").glob("*.json"))) == SLICE_MOVIES

    code, out, err = stage.run("enrich")
    assert code == 0, err
    assert f"tmdb.csv matched {SLICE_MOVIES} of {SLICE_MOVIES} movies" in out
    movies = read_parquet(stage.root / "data" / "processed" / "movies.parquet").set_index("movie_id")
    for _, row in real_rows.iterrows():
        movie = movies.loc[int(row["movieId"])]
        assert movie["overview"] == row["overview"] and movie["poster_path"] == row["poster_path"]
        assert movie["cast"] == [n for n in str(row["cast_top5"]).split("|") if n]
        assert movie["directors"] == [n for n in str(row["directors"]).split("|") if n]
        assert movie["tmdb_id"] == row["tmdbId"]
    info = read_info(stage.root / "data" / "processed")
    assert info["metadata"]["csv"] == "tmdb.csv" and info["metadata"]["fields"]["overview"] == SLICE_MOVIES


def test_an_interrupted_fetch_resumes_without_asking_again(stage: Stage, tmdb: tuple[str, FakeTmdb]) -> None:
    _, app = tmdb
    stage.monkeypatch.setenv("TMDB_API_KEY", "secret")
    app.revoke_after = 8  # the first run stops at the 9th movie
    code, _, err = stage.run("tmdb")
    assert code == 2 and "rejected the API key" in err
    assert not stage.csv.exists()
    first = app.paths()[:8]
    app.revoke_after, app.calls = None, []
    code, out, err = stage.run("tmdb")
    assert code == 0, err
    assert len(app.calls) == SLICE_MOVIES - 8 and not set(app.paths()) & set(first)  # only what was missing
    assert f"metadata for {SLICE_MOVIES} movies ({SLICE_MOVIES - 8} API requests" in out
    app.calls = []
    assert stage.run("tmdb")[0] == 0 and app.calls == []  # everything from the cache: not one request


def test_without_a_key_the_stage_writes_a_header_and_asks_nothing(stage: Stage, tmdb: tuple[str, FakeTmdb]) -> None:
    _, app = tmdb
    code, out, err = stage.run("tmdb")
    assert code == 0, err
    assert "TMDB_API_KEY is not set" in out
    header = stage.csv.read_bytes()
    assert header.decode().splitlines() == [",".join(CSV_HEADER)]
    assert stage.run("tmdb")[0] == 0 and stage.csv.read_bytes() == header  # same bytes: DVC sees no change
    code, out, _ = stage.run("enrich")
    assert code == 0 and "no metadata CSV configured" in out
    assert read_info(stage.root / "data" / "processed")["metadata"] is None
    assert app.calls == []


def test_a_bad_key_fails_in_one_line_with_status_2_and_writes_nothing(stage: Stage, tmdb: tuple[str, FakeTmdb]) -> None:
    _, app = tmdb
    stage.monkeypatch.setenv("TMDB_API_KEY", "wrong")
    code, _, err = stage.run("tmdb")
    assert code == 2 and len(app.calls) == 1
    assert err.strip().splitlines()[-1].startswith("error: TMDB rejected the API key (HTTP 401): check TMDB_API_KEY")
    assert not stage.csv.exists() and not stage.csv.with_suffix(".tmp").exists()


def test_dataset_metadata_csv_wins_over_the_api(
    stage: Stage, tmdb: tuple[str, FakeTmdb], shared_datasets: Path
) -> None:
    _, app = tmdb
    stage.monkeypatch.setenv("TMDB_API_KEY", "secret")
    own = shared_datasets / "ml-latest-small-tmdb.csv"
    stage.params.write_text(stage.params.read_text() + f"dataset:\n  metadata_csv: {own}\n")
    code, out, _ = stage.run("tmdb")
    assert code == 0 and "dataset.metadata_csv" in out and app.calls == []
    assert stage.run("enrich")[0] == 0
    assert read_info(stage.root / "data" / "processed")["metadata"]["csv"] == own.name
