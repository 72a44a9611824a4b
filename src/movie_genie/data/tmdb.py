"""A small TMDB API client (https://developer.themoviedb.org) for movie metadata, with rate limiting and an
on-disk JSON cache, plus `fetch_metadata_csv` that writes what it finds as a TMDB-style metadata CSV for `enrich`.

The pipeline's `tmdb` stage (`movie-genie tmdb`, data/stages.py `run_tmdb`) uses it when TMDB_API_KEY (a v3 API
key, or a v4 read access token) is set in the environment; without the key nothing here touches the network.
One JSON file per request in the cache means an interrupted fetch resumes where it stopped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import requests
from tqdm import tqdm

from movie_genie.errors import DataError
from movie_genie.files import atomic_path, write_text_atomically

TMDB_API = "https://api.themoviedb.org/3"
CSV_HEADER = ("movieId", "tmdbId", "imdbId", "overview", "tagline", "runtime", "release_date", "original_language",
              "poster_path", "keywords", "cast_top5", "directors")  # fmt: skip


class TmdbClient:
    """GET /movie/{id} (with keywords and credits) and /find/{imdb_id}, cached on disk and rate limited."""

    def __init__(
        self,
        api_key: str,
        cache_dir: Path,
        base_url: str = TMDB_API,
        requests_per_second: float = 20.0,
        max_retries: int = 3,
        timeout: float = 10.0,
        session: requests.Session | None = None,
    ) -> None:
        if not api_key:
            raise DataError("TMDB_API_KEY is not set; export it (a TMDB v3 API key or v4 read access token)")
        self.cache_dir = cache_dir
        self.base_url = base_url.rstrip("/")
        self.min_interval = 1.0 / requests_per_second
        self.max_retries = max_retries
        self.timeout = timeout
        self.session = session or requests.Session()
        self._params: dict[str, str] = {}
        if api_key.startswith("eyJ"):  # a v4 token (a JWT) goes in the header; a v3 key in the query string
            self.session.headers["Authorization"] = f"Bearer {api_key}"
        else:
            self._params["api_key"] = api_key
        self._last_request = 0.0
        self.requests_made = 0

    def _wait_for_slot(self) -> None:
        """Space requests at least `min_interval` apart (TMDB allows about 50 per second; we stay well below)."""
        delay = self._last_request + self.min_interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self._last_request = time.monotonic()

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any] | None:
        """GET a JSON document; None for 404; retries 429 (honouring Retry-After) and 5xx with backoff."""
        for attempt in range(self.max_retries + 1):
            self._wait_for_slot()
            self.requests_made += 1
            try:
                response = self.session.get(
                    f"{self.base_url}{path}", params={**self._params, **params}, timeout=self.timeout
                )
            except requests.RequestException as exc:
                if attempt == self.max_retries:
                    raise DataError(
                        f"TMDB request {path} failed ({exc}); check the network and try again "
                        "(answers so far are cached), or unset TMDB_API_KEY to run without metadata"
                    ) from exc
                time.sleep(2**attempt * 0.5)
                continue
            if response.status_code == 404:
                return None
            if response.status_code == 401:
                raise DataError(
                    "TMDB rejected the API key (HTTP 401): check TMDB_API_KEY (a v3 API key or v4 read access token "
                    "from themoviedb.org/settings/api), or unset it to run without metadata"
                )
            if response.status_code == 429 or response.status_code >= 500:
                if attempt == self.max_retries:
                    raise DataError(f"TMDB kept answering {response.status_code} for {path}; try again later")
                time.sleep(float(response.headers.get("Retry-After", 2**attempt * 0.5)))
                continue
            response.raise_for_status()
            payload: dict[str, Any] = response.json()
            return payload
        raise AssertionError("unreachable")

    def _cached(self, key: str, path: str, params: dict[str, str]) -> dict[str, Any] | None:
        """Answer from the on-disk cache, or fetch and store (404s are cached too, as null)."""
        file = self.cache_dir / f"{key}.json"
        if file.exists():
            cached: dict[str, Any] | None = json.loads(file.read_text(encoding="utf-8"))
            return cached
        payload = self._get(path, params)
        write_text_atomically(file, json.dumps(payload))
        return payload

    def movie(self, tmdb_id: int) -> dict[str, Any] | None:
        """The movie's details with keywords and credits, or None when TMDB does not know the id."""
        return self._cached(
            f"movie/{int(tmdb_id)}", f"/movie/{int(tmdb_id)}", {"append_to_response": "keywords,credits"}
        )

    def find_by_imdb(self, imdb_id: str) -> int | None:
        """The TMDB id of an IMDb id ("tt0114709"), or None."""
        found = self._cached(f"find/{imdb_id}", f"/find/{imdb_id}", {"external_source": "imdb_id"})
        results = (found or {}).get("movie_results") or []
        return int(results[0]["id"]) if results else None


def metadata_row(details: dict[str, Any]) -> dict[str, Any]:
    """Flatten a /movie response into the TMDB-style CSV columns (lists joined with '|')."""
    cast = sorted(details.get("credits", {}).get("cast", []), key=lambda c: c.get("order", 0))[:5]
    crew = details.get("credits", {}).get("crew", [])
    keywords = details.get("keywords", {}).get("keywords", [])
    return {
        "overview": details.get("overview") or None,
        "tagline": details.get("tagline") or None,
        "runtime": details.get("runtime") or None,
        "release_date": details.get("release_date") or None,
        "original_language": details.get("original_language") or None,
        "poster_path": details.get("poster_path") or None,
        "keywords": "|".join(k["name"] for k in keywords),
        "cast_top5": "|".join(c["name"] for c in cast),
        "directors": "|".join(c["name"] for c in crew if c.get("job") == "Director"),
    }


def fetch_metadata_csv(movies: pd.DataFrame, client: TmdbClient, output: Path) -> int:
    """Look every movie up on TMDB (by tmdb_id, else imdb_id) and write a TMDB-style CSV; returns rows found."""
    rows: list[dict[str, Any]] = []
    tmdb_ids: Iterable[Any] = movies["tmdb_id"] if "tmdb_id" in movies else [None] * len(movies)
    imdb_ids: Iterable[Any] = movies["imdb_id"] if "imdb_id" in movies else [None] * len(movies)
    records = zip(movies["movie_id"], tmdb_ids, imdb_ids, strict=True)
    for movie_id, tmdb_id, imdb_id in tqdm(records, total=len(movies), desc="TMDB", unit="movie"):
        if pd.isna(tmdb_id) and isinstance(imdb_id, str) and imdb_id:
            tmdb_id = client.find_by_imdb(imdb_id)
        details = None if tmdb_id is None or pd.isna(tmdb_id) else client.movie(int(tmdb_id))
        if details is not None:
            rows.append({"movieId": int(movie_id), "tmdbId": int(tmdb_id), "imdbId": details.get("imdb_id") or imdb_id,
                         **metadata_row(details)})  # fmt: skip
    return write_metadata_csv(rows, output)


def write_metadata_csv(rows: list[dict[str, Any]], output: Path) -> int:
    """Write rows as a TMDB-style CSV atomically (never a half-written file); no rows gives the header alone."""
    frame = pd.DataFrame(rows, columns=list(CSV_HEADER))
    frame["runtime"] = frame["runtime"].astype("Int64")
    with atomic_path(output) as tmp:
        frame.to_csv(tmp, index=False)
    return len(frame)


def has_metadata_rows(path: Path) -> bool:
    """Whether a metadata CSV exists and holds at least one row below its header."""
    if not path.is_file():
        return False
    with path.open("rb") as handle:
        handle.readline()  # the header
        return bool(handle.readline().strip())
