"""Search fixtures: real ml-latest-small tables (+ TMDB metadata) read with the data layer, one torch encoder per
session, and one small index over a slice of real movies (fast to embed) shared by every test."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from movie_genie.data.enrich import enrich_movies, read_metadata_csv
from movie_genie.data.stages import load_dataset
from movie_genie.search.build import build_index, embed_catalogue
from movie_genie.search.config import SearchConfig
from movie_genie.search.embeddings import EMBEDDINGS_FILE
from movie_genie.search.encoder import load_sentence_model
from movie_genie.search.engine import SearchEngine

# Films the tests ask about by name (Terminator films, robots, Toy Story, Star Wars), plus the most rated ones.
NAMED_IDS = (1, 3114, 260, 1196, 589, 1240, 6537, 519, 2985, 60069, 2761, 8644, 32031, 53996, 4006)
# Films the relevance tests need: the Godfather and Star Wars franchises with Star Trek beside them, one-rating
# robot films, haunted-house horror and the title-word strangers plain-language search used to return
# (The House of the Spirits, House Party 3), the page-fillers seen under "godfather" and a children's film.
RELEVANCE_IDS = (
    858, 1221, 2023, 172591, 8607,  # The Godfather I-III, the trilogy cut, Tokyo Godfathers
    1210, 2628, 5378, 33493, 122886, 166528, 1356, 1371, 1374, 1375,  # Star Wars films, Star Trek films
    136800, 7986,  # Robot Overlords, Robot Jox (one rating each)
    1258, 1994, 1327, 2550, 2719, 4720, 103688, 469, 470,  # haunted houses; House of the Spirits, House Party 3
    23, 532, 585, 239,  # Assassins, Serial Mom, The Brady Bunch Movie, A Goofy Movie
)  # fmt: skip
SLICE_POPULAR = 80


@dataclass(frozen=True)
class Tables:
    """ml-latest-small as the processed stage writes it: movies with metadata, ratings, tags."""

    movies: pd.DataFrame
    ratings: pd.DataFrame
    tags: pd.DataFrame


@dataclass(frozen=True)
class BuiltIndex:
    """A small index built once per session."""

    path: Path
    embeddings: Path
    movies: pd.DataFrame
    engine: SearchEngine
    config: SearchConfig


@pytest.fixture(scope="session")
def latest_small(shared_datasets: Path, tmp_path_factory: pytest.TempPathFactory) -> Tables:
    """Real ml-latest-small tables, enriched with the TMDB-style CSV by the data layer's own functions."""
    tables, _ = load_dataset(
        "ml-latest-small", shared_datasets / "ml-latest-small.zip", tmp_path_factory.mktemp("cache")
    )
    movies, _ = enrich_movies(tables.movies, read_metadata_csv(shared_datasets / "ml-latest-small-tmdb.csv"))
    return Tables(movies=movies, ratings=tables.ratings, tags=tables.tags)


@pytest.fixture(scope="session")
def movie_slice(latest_small: Tables) -> pd.DataFrame:
    """About 90 real movies: the named ones plus the most rated."""
    counts = latest_small.ratings["movie_id"].value_counts()
    keep = set(NAMED_IDS) | set(RELEVANCE_IDS) | set(counts.index[:SLICE_POPULAR].tolist())
    movies = latest_small.movies
    return movies[movies["movie_id"].isin(keep)].reset_index(drop=True)


@pytest.fixture(scope="session")
def search_config() -> SearchConfig:
    """The defaults of the `search` section."""
    return SearchConfig()


@pytest.fixture(scope="session")
def sentence_model(search_config: SearchConfig) -> Any:
    """The torch encoder, loaded once for the whole test session (about 10 s)."""
    return load_sentence_model(search_config.encoder)


@pytest.fixture(scope="session")
def index_of(
    latest_small: Tables, search_config: SearchConfig, sentence_model: Any, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str, pd.DataFrame], BuiltIndex]:
    """A builder: embed + index the given movies in a new folder, then SearchEngine.load (the CLI's path)."""

    def build(name: str, movies: pd.DataFrame) -> BuiltIndex:
        root = tmp_path_factory.mktemp(name)
        embeddings = root / "embeddings" / EMBEDDINGS_FILE
        embed_catalogue(movies, latest_small.tags, search_config, embeddings, sentence_model, progress=False)
        build_index(
            movies, latest_small.tags, latest_small.ratings, embeddings, root / "index", search_config, sentence_model
        )
        return BuiltIndex(
            path=root / "index",
            embeddings=embeddings,
            movies=movies,
            engine=SearchEngine.load(root / "index"),
            config=search_config,
        )

    return build


@pytest.fixture(scope="session")
def small_index(movie_slice: pd.DataFrame, index_of: Callable[[str, pd.DataFrame], BuiltIndex]) -> BuiltIndex:
    """The slice with its TMDB metadata, embedded and indexed."""
    return index_of("search", movie_slice)


@pytest.fixture(scope="session")
def plain_index(movie_slice: pd.DataFrame, index_of: Callable[[str, pd.DataFrame], BuiltIndex]) -> BuiltIndex:
    """The same slice without TMDB metadata (titles, genres, years, tags): the default app without a TMDB key."""
    return index_of("search-plain", movie_slice[["movie_id", "title", "year", "genres"]].copy())
