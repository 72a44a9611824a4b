"""Movie documents: what text each movie contributes, and the hash that decides re-embedding."""

from __future__ import annotations

import pandas as pd

from movie_genie.search.config import EncoderConfig
from movie_genie.search.documents import NO_GENRE, build_documents, document_hash, top_tags


def test_documents_hold_every_metadata_field_of_real_movies(latest_small) -> None:
    toy_story = latest_small.movies[latest_small.movies["movie_id"] == 1]
    (doc,) = build_documents(toy_story, latest_small.tags, EncoderConfig())
    assert doc.movie_id == 1 and doc.title == "Toy Story" and doc.year == 1995
    assert doc.text.startswith("Toy Story (1995). Genres: Adventure, Animation, Children, Comedy, Fantasy.")
    assert "Buzz Lightyear" in doc.text  # overview
    assert "Keywords: rescue, friendship" in doc.text
    assert "Directed by John Lasseter." in doc.text
    assert "Starring Tom Hanks, Tim Allen" in doc.text
    assert "Tags: " in doc.text and "pixar" in doc.text  # ml-latest-small users tagged it
    assert doc.display_title == "Toy Story (1995)"


def test_documents_without_metadata_use_title_year_genres_only() -> None:
    movies = pd.DataFrame(
        {
            "movie_id": [7, 8],
            "title": ["Sabrina", "Untitled"],
            "year": pd.array([1995, None], dtype="Int64"),
            "genres": [["Comedy", "Romance"], [NO_GENRE]],
        }
    )
    first, second = build_documents(movies, None, EncoderConfig())
    assert first.text == "Sabrina (1995). Genres: Comedy, Romance."
    assert second.year is None and second.genres == () and second.text == "Untitled."


def test_lists_are_truncated_as_configured(latest_small) -> None:
    toy_story = latest_small.movies[latest_small.movies["movie_id"] == 1]
    (doc,) = build_documents(toy_story, latest_small.tags, EncoderConfig(max_keywords=1, max_cast=1, max_tags=0))
    assert "Keywords: rescue." in doc.text
    assert "Starring Tom Hanks." in doc.text
    assert "Tags:" not in doc.text


def test_top_tags_counts_users_and_lowercases() -> None:
    tags = pd.DataFrame(
        {"user_id": [1, 2, 3, 1], "movie_id": [5, 5, 5, 6], "tag": ["Funny", "funny ", "dark", "x"], "timestamp": 0}
    )
    assert top_tags(tags, 1) == {5: ["funny"], 6: ["x"]}
    assert top_tags(tags, 5)[5] == ["funny", "dark"]


def test_document_hash_changes_with_text_and_encoder_settings() -> None:
    base = document_hash("A film.", EncoderConfig())
    assert base == document_hash("A film.", EncoderConfig(batch_size=8))  # batch size cannot change a vector
    assert base != document_hash("A film!", EncoderConfig())
    assert base != document_hash("A film.", EncoderConfig(max_seq_length=128))
