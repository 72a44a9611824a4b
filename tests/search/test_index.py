"""Vector index (exact and HNSW, filtered), title matching, BM25, and the index stage's own checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from movie_genie.search.build import build_index, rating_counts
from movie_genie.search.config import LexicalConfig, SearchConfig, VectorConfig
from movie_genie.search.documents import MovieDocument
from movie_genie.search.errors import IndexMissingError
from movie_genie.search.lexical import LexicalIndex
from movie_genie.search.titles import TitleMatcher, normalise, title_variants
from movie_genie.search.vector import build_vector_index, load_vector_index, save_vector_index, vector_search


@pytest.fixture(scope="module")
def unit_vectors() -> np.ndarray:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3000, 32)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("hnsw_min", [10**6, 100])
def test_vector_search_exact_and_hnsw(unit_vectors, hnsw_min, tmp_path: Path) -> None:
    config = VectorConfig(hnsw_min_movies=hnsw_min, hnsw_m=16, hnsw_ef_search=64)
    index = build_vector_index(unit_vectors, config)
    assert type(index).__name__ == ("IndexFlatIP" if hnsw_min > 3000 else "IndexHNSWFlat")
    save_vector_index(index, tmp_path / "v.faiss")
    index = load_vector_index(tmp_path / "v.faiss")
    truth = np.argsort(-(unit_vectors @ unit_vectors[7]))[:10]
    rows, scores = vector_search(index, unit_vectors[7], 10, 64)
    assert rows[0] == 7 and pytest.approx(scores[0], abs=1e-5) == 1.0
    assert len(set(rows) & set(truth)) >= 9  # HNSW is approximate; exact must match
    # A thin filter (3 rows) is scored exactly; a wide one goes through FAISS's selector.
    thin = np.zeros(3000, dtype=bool)
    thin[[5, 900, 2999]] = True
    assert sorted(vector_search(index, unit_vectors[900], 10, 64, thin)[0].tolist()) == [5, 900, 2999]
    wide = np.arange(3000) % 2 == 0
    rows, _ = vector_search(index, unit_vectors[8], 10, 64, wide)
    assert rows[0] == 8 and all(r % 2 == 0 for r in rows)
    nothing = np.zeros(3000, dtype=bool)
    assert vector_search(index, unit_vectors[8], 10, 64, nothing)[0].size == 0


def test_title_forms_and_matching() -> None:
    assert normalise("Amélie (Le fabuleux destin d'Amélie Poulain)") == "amelie le fabuleux destin d amelie poulain"
    assert "lord of the rings" in title_variants("The Lord of the Rings: The Fellowship of the Ring")
    titles = ["The Terminator", "Terminator 2: Judgment Day", "The Matrix", "Heat"]
    matcher = TitleMatcher(titles, np.array([10, 20, 30, 40]))
    scores = matcher.scores("termnator")
    assert scores.argmax() == 0 and scores[0] >= 90 and scores[3] < 50
    assert matcher.scores("🤖").max() == 0
    assert [r for r, _ in matcher.suggest("ter", 5, 80)] == [1, 0]  # both start with it: more ratings first
    assert [r for r, _ in matcher.suggest("judgment", 5, 80)] == [1]
    assert [r for r, _ in matcher.suggest("matirx", 5, 80)] == [2]  # typo: fuzzy fallback


def test_bm25_boosts_titles_and_stems() -> None:
    docs = [
        MovieDocument(1, "Robots", 2005, (), "Robots (2005). An inventor in a city of machines."),
        MovieDocument(2, "Heat", 1995, (), "Heat (1995). A thief; a detective. A robot appears once."),
        MovieDocument(3, "Alien", 1979, (), "Alien (1979). A creature on a ship."),
    ]
    index = LexicalIndex.build(docs, LexicalConfig())
    scores = index.scores("robot")  # stemmed: matches "Robots" too
    assert scores[0] > scores[1] > 0 and scores[2] == 0
    assert index.scores("qqqq").max() == 0 and index.scores("the of").max() == 0  # unknown / stop words only


def test_rating_counts_align_with_movie_ids() -> None:
    ratings = pd.DataFrame({"movie_id": [3, 3, 1, 3]})
    assert rating_counts(ratings, np.array([1, 2, 3])).tolist() == [1, 0, 3]
    assert rating_counts(None, np.array([1, 2])).tolist() == [0, 0]


def test_index_refuses_stale_embeddings(small_index, latest_small, sentence_model, tmp_path: Path) -> None:
    changed = small_index.movies.copy()
    changed.loc[0, "overview"] = "A completely different story."
    with pytest.raises(IndexMissingError, match="stale: 1 of"):
        build_index(
            changed, latest_small.tags, None, small_index.embeddings, tmp_path / "i", SearchConfig(), sentence_model
        )
    with pytest.raises(IndexMissingError, match="run `movie-genie embed`"):
        build_index(changed, None, None, tmp_path / "none.npz", tmp_path / "i", SearchConfig(), sentence_model)
    assert not (tmp_path / "i").exists()  # nothing half-written


@pytest.mark.parametrize(
    "query",
    ["Action movies with ROBOTS", "a heist that goes wrong", "the of and", "Amélie's café", "日本 robots 🤖", ""],
)
def test_query_tokens_match_the_indexing_tokenizer(query) -> None:
    import bm25s
    import Stemmer

    index = LexicalIndex.build([MovieDocument(1, "Robots", None, (), "Robots. A heist.")], LexicalConfig())
    expected = bm25s.tokenize(
        query, stopwords="en", stemmer=Stemmer.Stemmer("english"), return_ids=False, show_progress=False
    )
    # Queries also drop the words that describe the request ("movies"), never the indexed text.
    request_words = {"movi", "film", "flick", "about"}
    assert index.tokens(query) == [t for t in (list(expected[0]) if expected else []) if t not in request_words]
