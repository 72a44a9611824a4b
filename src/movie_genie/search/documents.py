"""One text document per movie, built from whatever the processed tables hold (title, year, genres and, where the
data set has them, tagline, overview, keywords, directors, cast and user tags).

The same document feeds the sentence encoder and BM25, so the two retrievers see the same facts.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

import pandas as pd

from movie_genie.data.tags import top_tags  # shared with the database's per-movie tags
from movie_genie.search.config import EncoderConfig

# MovieLens writes this placeholder where a film has no genre; it is not a genre a user can search or filter by.
NO_GENRE = "(no genres listed)"
ENCODER_ID = "sentence-transformers/all-MiniLM-L6-v2"


@dataclass(frozen=True)
class MovieDocument:
    """A movie's searchable text plus the fields results and filters show."""

    movie_id: int
    title: str
    year: int | None
    genres: tuple[str, ...]
    text: str

    @property
    def display_title(self) -> str:
        """Title with the year, as people write it: "The Terminator (1984)"."""
        return f"{self.title} ({self.year})" if self.year is not None else self.title


def _as_list(value: Any) -> list[str]:
    """Parquet list cells arrive as numpy arrays, lists, None or NaN; return clean non-empty strings."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    return [str(v).strip() for v in value if v is not None and str(v).strip()]


def _as_text(value: Any) -> str:
    """A nullable string cell as a stripped string ('' for missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return str(value).strip()


def _as_year(value: Any) -> int | None:
    """A nullable Int64 cell as int or None."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return int(value)


def _sentence(label: str, items: Iterable[str]) -> str:
    joined = ", ".join(items)
    return f"{label} {joined}." if joined else ""


def build_documents(movies: pd.DataFrame, tags: pd.DataFrame | None, config: EncoderConfig) -> list[MovieDocument]:
    """One document per row of the movies table, in the table's order."""
    tag_map = top_tags(tags, config.max_tags)
    columns = set(movies.columns)
    docs: list[MovieDocument] = []
    for row in movies.to_dict("records"):
        movie_id = int(cast(int, row["movie_id"]))
        title = _as_text(row["title"])
        year = _as_year(row.get("year"))
        genres = tuple(g for g in _as_list(row.get("genres")) if g != NO_GENRE)
        head = f"{title} ({year})." if year is not None else f"{title}."
        parts = [head, _sentence("Genres:", genres)]
        if "tagline" in columns:
            parts.append(_as_text(row.get("tagline")))
        if "overview" in columns:
            parts.append(_as_text(row.get("overview")))
        if "keywords" in columns:
            parts.append(_sentence("Keywords:", _as_list(row.get("keywords"))[: config.max_keywords]))
        if "directors" in columns:
            parts.append(_sentence("Directed by", _as_list(row.get("directors"))))
        if "cast" in columns:
            parts.append(_sentence("Starring", _as_list(row.get("cast"))[: config.max_cast]))
        parts.append(_sentence("Tags:", tag_map.get(movie_id, [])))
        text = " ".join(p for p in parts if p)
        docs.append(MovieDocument(movie_id, title, year, genres, text))
    return docs


def document_hash(text: str, config: EncoderConfig) -> str:
    """sha256 of the encoder identity, its settings that change the vector, and the text: equal hash, equal vector."""
    key = f"{ENCODER_ID}|max_seq_length={config.max_seq_length}|{text}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
