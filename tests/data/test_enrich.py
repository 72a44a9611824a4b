"""Metadata enrichment from a TMDB-style CSV: matching, list fields, coverage."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from movie_genie.data.archive import Archive
from movie_genie.data.enrich import enrich_movies, read_metadata_csv
from movie_genie.data.movielens import read_movielens
from movie_genie.errors import DataError

from .conftest import TINY_CSV, make_folder


@pytest.fixture(scope="module")
def tmdb_csv(shared_datasets: Path) -> pd.DataFrame:
    return read_metadata_csv(shared_datasets / "ml-latest-small-tmdb.csv")


def _movies(shared_datasets: Path, name: str) -> pd.DataFrame:
    with Archive(shared_datasets / name) as archive:
        return read_movielens(archive).movies


def test_ml_latest_small_coverage(shared_datasets: Path, tmdb_csv: pd.DataFrame) -> None:
    movies, coverage = enrich_movies(_movies(shared_datasets, "ml-latest-small.zip"), tmdb_csv)
    assert coverage.matched_by == {"movieId": 9_742}
    # the figures the data set's README gives for this CSV
    assert coverage.fields["overview"] == 9_523
    assert coverage.fields["tagline"] == 3_618
    assert coverage.fields["keywords"] == 1_784
    assert (coverage.fields["cast"], coverage.fields["directors"]) == (9_033, 8_989)
    assert coverage.fields["runtime"] == 4_429 and coverage.fields["poster_path"] == 4_435
    toy = movies.set_index("movie_id").loc[1]
    assert toy["overview"].startswith("Led by Woody")
    assert toy["cast"][:2] == ["Tom Hanks", "Tim Allen"] and toy["directors"] == ["John Lasseter"]
    assert toy["runtime"] == 81 and toy["language"] == "en" and toy["release_date"] == "1995-10-30"
    assert "rescue" in toy["keywords"]
    assert len(movies) == 9_742 and movies["movie_id"].tolist() == sorted(movies["movie_id"])


def test_other_numbering_matches_by_title_not_by_id(shared_datasets: Path, tmdb_csv: pd.DataFrame) -> None:
    # ml-100k's movie 2 is GoldenEye, ml-latest-small's movie 2 is Jumanji: the id alone must not match them.
    movies, coverage = enrich_movies(_movies(shared_datasets, "ml-100k.zip"), tmdb_csv)
    goldeneye = movies.set_index("movie_id").loc[2]
    assert goldeneye["title"] == "GoldenEye"
    assert goldeneye["tmdb_id"] == 710 and "Bond" in goldeneye["overview"]
    assert coverage.matched_by["title+year"] > 1_000
    assert sum(coverage.matched_by.values()) == coverage.fields["tmdb_id"]


def test_match_via_links_tmdb_id(tmp_path: Path) -> None:
    with Archive(make_folder(tmp_path / "tiny", TINY_CSV)) as archive:
        movies = read_movielens(archive).movies
    csv = tmp_path / "meta.csv"
    csv.write_text(
        "tmdbId,overview,cast_top5,runtime,original_language\n"
        "10000,A space station.,Bruce Boxleitner|Claudia Christian,90,en\n"
        "9087,A widowed president.,Michael Douglas,0,\n"
    )
    enriched, coverage = enrich_movies(movies, read_metadata_csv(csv))
    by_id = enriched.set_index("movie_id")
    assert coverage.matched_by == {"tmdb_id": 2}
    assert by_id.loc[3, "cast"] == ["Bruce Boxleitner", "Claudia Christian"]
    assert by_id.loc[1, "overview"] == "A widowed president." and pd.isna(by_id.loc[1, "runtime"])  # 0 = unknown
    assert by_id.loc[2, "cast"] == [] and pd.isna(by_id.loc[2, "overview"])
    assert coverage.fields["overview"] == 2 and coverage.fields["language"] == 1


def test_bad_metadata_csv(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        read_metadata_csv(tmp_path / "missing.csv")
    (tmp_path / "plain.csv").write_text("movieId,title\n1,Toy Story (1995)\n")
    with pytest.raises(DataError, match="none of the metadata columns"):
        read_metadata_csv(tmp_path / "plain.csv")
    (tmp_path / "bad.csv").write_text("movieId,overview,runtime\n1,Fine.,81\n2,Broken.,long\n")
    with pytest.raises(DataError, match=r"bad\.csv, line 3: column runtime"):
        read_metadata_csv(tmp_path / "bad.csv")
