"""Metadata enrichment: attach overviews, taglines, keywords, cast, directors, runtime, release date, language and
poster path from a TMDB-style CSV (e.g. ml-latest-small-tmdb.csv) to the movies table, and report the coverage.

Rows are matched to movies, in this order: by movieId (only where the CSV's title agrees, since ml-100k and
ml-latest number movies differently), by TMDB id, by IMDb id (both from links.csv), then by title and year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from movie_genie.data.archive import Archive
from movie_genie.data.movielens import Column, read_delimited
from movie_genie.data.schema import METADATA_COLUMNS
from movie_genie.data.titles import clean_title
from movie_genie.errors import DataError

# CSV column -> canonical column; list columns are '|'-separated in the CSV.
CSV_COLUMNS = {
    "overview": "overview",
    "tagline": "tagline",
    "keywords": "keywords",
    "cast_top5": "cast",
    "cast": "cast",
    "directors": "directors",
    "runtime": "runtime",
    "release_date": "release_date",
    "original_language": "language",
    "language": "language",
    "poster_path": "poster_path",
}
LIST_FIELDS = ("keywords", "cast", "directors")
ENRICHED_FIELDS = ("overview", "tagline", "keywords", "cast", "directors", "runtime", "release_date", "language",
                   "poster_path")  # fmt: skip


@dataclass
class Coverage:
    """How many movies got each field, and how rows were matched."""

    n_movies: int
    fields: dict[str, int] = field(default_factory=dict)
    matched_by: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """Human-readable coverage table, one field per line."""
        matched = ", ".join(f"{k} {v:,}" for k, v in self.matched_by.items())
        out = [f"matched {sum(self.matched_by.values()):,} of {self.n_movies:,} movies ({matched})"]
        for name, count in self.fields.items():
            out.append(f"  {name:<13} {count:>7,} / {self.n_movies:,}  ({100 * count / max(self.n_movies, 1):5.1f} %)")
        return out

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form for dataset.json."""
        return {"n_movies": self.n_movies, "fields": self.fields, "matched_by": self.matched_by}


def _title_key(title: str, year: object) -> str:
    """A loose key for matching by title: lowercase letters and digits only, plus the year."""
    return re.sub(r"[^0-9a-z]+", "", str(title).lower()) + f"|{'' if pd.isna(year) else int(year)}"  # type: ignore[call-overload]


def read_metadata_csv(path: Path) -> pd.DataFrame:
    """Read a TMDB-style metadata CSV into canonical column names (movie_id, tmdb_id, imdb_id, title, year, ...)."""
    if not path.is_file():
        raise DataError(f"metadata CSV {path} not found; fix dataset.metadata_csv in params.yaml or --metadata-csv")
    with Archive(path.parent) as folder:
        header = folder.read_bytes(path.name).split(b"\n", 1)[0].decode("utf-8", errors="replace").strip().split(",")
        known = [c for c in header if c in CSV_COLUMNS or c in ("movieId", "tmdbId", "imdbId", "title")]
        if not any(c in CSV_COLUMNS for c in known):
            raise DataError(f"{path}: none of the metadata columns {', '.join(CSV_COLUMNS)} found (header: {header})")
        columns = [
            Column(c, c, "int" if c == "movieId" else "optint" if c in ("tmdbId", "runtime") else "str") for c in header
        ]
        frame = read_delimited(folder, path.name, columns, sep=",", header=True, quoted=True)
    out = pd.DataFrame(index=frame.index)
    for source, target in (("movieId", "movie_id"), ("tmdbId", "tmdb_id")):
        if source in frame:
            out[target] = frame[source]
    if "imdbId" in frame:
        out["imdb_id"] = [f"tt{v}" if v and not str(v).startswith("tt") else (v or None) for v in frame["imdbId"]]
    if "title" in frame:
        cleaned = [clean_title(t) for t in frame["title"]]
        out["title"] = [t for t, _ in cleaned]
        out["year"] = pd.array([y for _, y in cleaned], dtype="Int64")
    for source, target in CSV_COLUMNS.items():
        if source not in frame or target in out:
            continue
        values = frame[source]
        if target in LIST_FIELDS:
            out[target] = [[p.strip() for p in str(v).split("|") if p.strip()] for v in values.fillna("")]
        elif target == "runtime":
            out[target] = values.astype("Int64").where(values.astype("Int64") > 0)  # 0 means unknown in TMDB data
        else:
            out[target] = values.replace("", None)
    return out


def _match(movies: pd.DataFrame, meta: pd.DataFrame) -> tuple[pd.Series, dict[str, int]]:
    """For every movie (by row), the matching metadata row index or NA; and counts per matching method."""
    found = pd.Series(pd.NA, index=movies.index, dtype="Int64")
    counts: dict[str, int] = {}

    def attach(method: str, left: pd.Series, right: pd.Series) -> None:
        right = right.dropna()
        right = right[~right.duplicated(keep=False)]  # ambiguous keys match nothing
        lookup = pd.Series(right.index, index=right.to_numpy())
        hits = left.map(lookup).astype("Int64").where(found.isna())
        counts[method] = int(hits.notna().sum())
        found.update(hits.dropna())

    if "movie_id" in meta and "title" in meta:
        by_id = meta.set_index("movie_id")
        same_title = movies["movie_id"].map(by_id["title"]) == movies["title"]
        attach("movieId", movies["movie_id"].where(same_title), meta["movie_id"])
    elif "movie_id" in meta:
        attach("movieId", movies["movie_id"], meta["movie_id"])
    for key in ("tmdb_id", "imdb_id"):
        if key in meta and key in movies:
            attach(key, movies[key], meta[key])
    if "title" in meta:
        left = pd.Series([_title_key(t, y) for t, y in zip(movies["title"], movies["year"], strict=True)], movies.index)
        right = pd.Series([_title_key(t, y) for t, y in zip(meta["title"], meta["year"], strict=True)], meta.index)
        attach("title+year", left, right)
    return found, {k: v for k, v in counts.items() if v}


def enrich_movies(movies: pd.DataFrame, meta: pd.DataFrame) -> tuple[pd.DataFrame, Coverage]:
    """Fill the metadata columns of `movies` from matched rows of `meta`; existing non-empty values are kept."""
    found, matched_by = _match(movies, meta)
    out = movies.copy()
    rows = meta.reindex(found.fillna(-1).astype("int64").to_numpy())  # -1: no match -> a row of NA
    rows.index = movies.index
    for column in (*ENRICHED_FIELDS, "tmdb_id", "imdb_id"):
        if column not in rows:
            continue
        new = rows[column]
        if column in LIST_FIELDS:
            new = pd.Series([v if isinstance(v, list) else [] for v in new], index=movies.index, dtype="object")
            if column in out:
                new = pd.Series([o if o else n for o, n in zip(out[column], new, strict=True)], index=movies.index)
        elif column in out:
            new = out[column].where(out[column].notna(), new)
        out[column] = new.astype("Int64") if column in ("runtime", "tmdb_id") else new
    coverage = Coverage(len(out), matched_by=matched_by)
    for column in METADATA_COLUMNS:
        if column in out:
            values = out[column]
            present = values.map(len) > 0 if column in LIST_FIELDS else values.notna() & (values.astype(str) != "")
            coverage.fields[column] = int(present.sum())
    return out, coverage
