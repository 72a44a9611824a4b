"""The three data pipeline stages behind `movie-genie data|enrich|split`; each returns a one-line summary."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

from movie_genie.config import Layout, Params, Settings
from movie_genie.data.archive import Archive
from movie_genie.data.enrich import enrich_movies, read_metadata_csv
from movie_genie.data.movielens import CanonicalTables, read_movielens
from movie_genie.data.recbole import read_recbole_ml100k
from movie_genie.data.schema import DATASET_INFO_FILE, ID_MAP_FILE, TABLES
from movie_genie.data.sources import REGISTRY, resolve_source
from movie_genie.data.split import leave_one_out
from movie_genie.data.tables import atomic_dir, read_info, read_parquet, read_tables, write_parquet, write_tables
from movie_genie.data.tmdb import TMDB_API, TmdbClient, fetch_metadata_csv
from movie_genie.errors import ArtifactMissingError


def load_dataset(name: str, source: Path | None, cache_dir: Path) -> tuple[CanonicalTables, str]:
    """Resolve (download or local) and read a data set; returns the tables and a description of the source."""
    resolved = resolve_source(name, source, cache_dir)
    with Archive(resolved.path) as archive:
        tables = read_recbole_ml100k(archive) if resolved.kind == "recbole" else read_movielens(archive)
    return tables, resolved.description


def run_data(params: Params, layout: Layout, dataset: str | None = None, source: Path | None = None) -> str:
    """Read the configured data set into layout.canonical_dir (movies/ratings/users/tags.parquet + dataset.json)."""
    start = time.perf_counter()
    if source is None and dataset is None and params.dataset.source:
        source = Path(params.dataset.source)
    # `--source .../ml-latest-small.zip` names its data set; otherwise the name comes from --dataset or params.
    named_by_source = source.name.removesuffix(".zip") if source is not None else None
    name = dataset or (named_by_source if named_by_source in REGISTRY else params.dataset.name)
    tables, description = load_dataset(name, source, layout.cache_dir)
    counts = tables.counts()
    info = {"name": name, "source": description, **counts, "rated_movies": int(tables.ratings["movie_id"].nunique())}
    write_tables(layout.canonical_dir, tables.as_dict(), info)
    return (
        f"data: {name} from {description}: {counts['ratings']:,} ratings, {counts['users']:,} users, "
        f"{counts['movies']:,} movies, {counts['tags']:,} tags -> {layout.canonical_dir} "
        f"({time.perf_counter() - start:.1f} s)"
    )


def fetch_tmdb_metadata(layout: Layout) -> Path:
    """Fetch metadata for the canonical movies from the TMDB API (TMDB_API_KEY) into a CSV in the cache."""
    settings = Settings.from_env(layout.data_dir)
    client = TmdbClient(
        settings.tmdb_api_key or "", layout.cache_dir / "tmdb", base_url=os.environ.get("TMDB_API_URL", TMDB_API)
    )
    output = layout.cache_dir / "tmdb" / "metadata.csv"
    found = fetch_metadata_csv(read_parquet(layout.canonical_dir / "movies.parquet"), client, output)
    print(f"TMDB: metadata for {found:,} movies ({client.requests_made:,} API requests) -> {output}", file=sys.stderr)
    return output


def run_enrich(
    params: Params, layout: Layout, metadata_csv: Path | None = None, from_tmdb: bool = False
) -> tuple[str, list[str]]:
    """Copy canonical -> processed, enriching movies from a metadata CSV when one is configured.

    With `from_tmdb` the CSV is first fetched from the TMDB API (never in the default pipeline).
    Returns the summary line and the coverage lines (empty when no CSV is configured).
    """
    start = time.perf_counter()
    info = read_info(layout.canonical_dir)
    csv_path = metadata_csv or (Path(params.dataset.metadata_csv) if params.dataset.metadata_csv else None)
    if from_tmdb:
        csv_path = fetch_tmdb_metadata(layout)
    if csv_path is None:
        with atomic_dir(layout.processed_dir) as tmp:  # a real copy, so DVC tracks its own output
            for name in TABLES:
                if not (layout.canonical_dir / f"{name}.parquet").exists():
                    raise ArtifactMissingError(
                        f"{layout.canonical_dir / name}.parquet not found; run `movie-genie data`"
                    )
                shutil.copy2(layout.canonical_dir / f"{name}.parquet", tmp / f"{name}.parquet")
            (tmp / DATASET_INFO_FILE).write_text(json.dumps({**info, "metadata": None}, indent=2) + "\n")
        return f"enrich: no metadata CSV configured; copied {info.get('name')} tables -> {layout.processed_dir} " + (
            f"({time.perf_counter() - start:.1f} s)"
        ), []
    tables = read_tables(layout.canonical_dir)
    movies, coverage = enrich_movies(tables["movies"], read_metadata_csv(csv_path))
    write_tables(
        layout.processed_dir,
        {**tables, "movies": movies},
        {**info, "metadata": {"csv": csv_path.name, **coverage.to_dict()}},
    )
    overview = coverage.fields.get("overview", 0)
    summary = (
        f"enrich: {csv_path.name} matched {sum(coverage.matched_by.values()):,} of {coverage.n_movies:,} movies, "
        f"overview for {overview:,} ({100 * overview / max(coverage.n_movies, 1):.1f} %) -> {layout.processed_dir} "
        f"({time.perf_counter() - start:.1f} s)"
    )
    return summary, coverage.lines()


def run_split(params: Params, layout: Layout) -> str:
    """Leave-one-out split of the processed ratings into layout.split_dir (train/valid/test.parquet, id_map.json)."""
    start = time.perf_counter()
    ratings = read_parquet(layout.processed_dir / "ratings.parquet")
    movies = read_parquet(layout.processed_dir / "movies.parquet")
    split = leave_one_out(ratings, movies["movie_id"], params.split.min_interactions)
    with atomic_dir(layout.split_dir) as tmp:
        for name, frame in split.frames().items():
            write_parquet(frame, tmp / f"{name}.parquet")
        split.id_map.save(tmp / ID_MAP_FILE)
    dropped = f", {split.duplicates_dropped:,} repeated ratings dropped" if split.duplicates_dropped else ""
    return (
        f"split: train {len(split.train):,} / valid {len(split.valid):,} / test {len(split.test):,} rows; "
        f"{split.id_map.n_users:,} users, {split.id_map.n_items:,} items{dropped} -> {layout.split_dir} "
        f"({time.perf_counter() - start:.1f} s)"
    )
