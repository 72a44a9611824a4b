"""The data pipeline stages behind `movie-genie data|tmdb|enrich|split`; each returns a one-line summary."""

from __future__ import annotations

import json
import os
import shutil
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
from movie_genie.data.synthetic import dataset_name, synthetic_tables
from movie_genie.data.tables import read_info, read_parquet, read_tables, write_parquet, write_tables
from movie_genie.data.tmdb import TMDB_API, TmdbClient, fetch_metadata_csv, has_metadata_rows, write_metadata_csv
from movie_genie.errors import ArtifactMissingError
from movie_genie.files import atomic_dir


def load_dataset(name: str, source: Path | None, cache_dir: Path) -> tuple[CanonicalTables, str]:
    """Resolve (download or local) and read a data set; returns the tables and a description of the source."""
    resolved = resolve_source(name, source, cache_dir)
    with Archive(resolved.path) as archive:
        tables = read_recbole_ml100k(archive) if resolved.kind == "recbole" else read_movielens(archive)
    return tables, resolved.description


def run_data(
    params: Params,
    layout: Layout,
    dataset: str | None = None,
    source: Path | None = None,
    synthetic: float | None = None,
) -> str:
    """Read the configured data set into layout.canonical_dir (movies/ratings/users/tags.parquet + dataset.json).

    `synthetic` writes a generated data set of that scale instead (data/synthetic.py: for cost, not quality).
    """
    start = time.perf_counter()
    if synthetic is not None:
        name = dataset_name(synthetic)
        tables = synthetic_tables(synthetic)
        description = f"the synthetic generator (scale {synthetic:g}, seed 0; for measuring cost, not quality)"
    else:
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


def fetch_tmdb_metadata(layout: Layout, api_key: str) -> tuple[int, int]:
    """Fetch metadata for the canonical movies from the TMDB API into layout.tmdb_csv; (rows found, requests made).

    Every answer is cached as one JSON file under <cache>/tmdb, so a second run (or one resumed after an
    interruption) asks TMDB only for the movies it has not seen yet.
    """
    client = TmdbClient(api_key, layout.cache_dir / "tmdb", base_url=os.environ.get("TMDB_API_URL", TMDB_API))
    movies = read_parquet(layout.canonical_dir / "movies.parquet")
    found = fetch_metadata_csv(movies, client, layout.tmdb_csv)
    return found, client.requests_made


def run_tmdb(params: Params, layout: Layout) -> str:
    """The `tmdb` stage: metadata from the TMDB API into layout.tmdb_csv when TMDB_API_KEY is set, else a header.

    dvc.yaml runs this stage on every `dvc repro` (`always_changed`), because DVC cannot see an environment
    variable. Without the key (or with dataset.metadata_csv set, which `enrich` uses instead) the output is the same
    header-only CSV every time, so its hash never changes and nothing downstream reruns; no request is made.
    With the key, cached answers make a repeated run cheap, and `enrich` reruns only if what was fetched changed.
    """
    start = time.perf_counter()
    api_key = Settings.from_env(layout.data_dir).tmdb_api_key
    if params.dataset.metadata_csv or not api_key:
        write_metadata_csv([], layout.tmdb_csv)
        reason = (
            f"dataset.metadata_csv ({params.dataset.metadata_csv}) is used instead"
            if params.dataset.metadata_csv
            else "TMDB_API_KEY is not set (set it for overviews, posters and cast)"
        )
        return f"tmdb: {reason}; nothing fetched -> {layout.tmdb_csv} (header only)"
    found, requests_made = fetch_tmdb_metadata(layout, api_key)
    return (
        f"tmdb: metadata for {found:,} movies ({requests_made:,} API requests, the rest from the cache "
        f"{layout.cache_dir / 'tmdb'}) -> {layout.tmdb_csv} ({time.perf_counter() - start:.1f} s)"
    )


def run_enrich(
    params: Params, layout: Layout, metadata_csv: Path | None = None, from_tmdb: bool = False
) -> tuple[str, list[str]]:
    """Copy canonical -> processed, enriching movies from a metadata CSV when there is one.

    The CSV is, in this order: `metadata_csv`, dataset.metadata_csv in params.yaml, then the `tmdb` stage's
    layout.tmdb_csv when it holds rows. With `from_tmdb` that file is first fetched from the TMDB API.
    Returns the summary line and the coverage lines (empty when there is no CSV).
    """
    start = time.perf_counter()
    info = read_info(layout.canonical_dir)
    csv_path = metadata_csv or (Path(params.dataset.metadata_csv) if params.dataset.metadata_csv else None)
    if from_tmdb:
        fetch_tmdb_metadata(layout, Settings.from_env(layout.data_dir).tmdb_api_key or "")
        csv_path = layout.tmdb_csv
    elif csv_path is None and has_metadata_rows(layout.tmdb_csv):
        csv_path = layout.tmdb_csv
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
