"""Search benchmark on ml-latest-small with its TMDB metadata: quality (nDCG@10, recall@10 per mode on the judged
query set in benchmarks/data/search_queries.yaml) and in-process latency (query embedding, whole search).

Baselines measured in the same run:
- query embedding: the torch sentence-transformers model encoding the same queries one at a time;
- whole search: a trivial scan, lower-cased substring match of the query over every movie document in Python.

The index is built from the shared data with the project's own pipeline functions (data layer reader + enrichment,
`embed`, `index`) into artifacts/bench/search-ml-latest-small/; embeddings are reused between runs.

Run: .venv/bin/python benchmarks/bench_search.py [--repeat N] [--rebuild]
Prints tables and writes benchmarks/results/search.json.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import yaml

from movie_genie.data.enrich import enrich_movies, read_metadata_csv
from movie_genie.data.stages import load_dataset
from movie_genie.data.tables import read_tables, write_tables
from movie_genie.search.build import MANIFEST_FILE, build_index, embed_catalogue
from movie_genie.search.config import SearchConfig
from movie_genie.search.embeddings import EMBEDDINGS_FILE
from movie_genie.search.encoder import load_sentence_model

ROOT = Path(__file__).resolve().parents[1]
WORKDIR = ROOT / "artifacts" / "bench" / "search-ml-latest-small"
QUERIES = ROOT / "benchmarks" / "data" / "search_queries.yaml"
RESULTS = ROOT / "benchmarks" / "results" / "search.json"
QUALITY_MODES = ("semantic", "lexical", "title", "hybrid")
K = 10


def _shared() -> Path:
    env = os.environ.get("MOVIE_GENIE_SHARED_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "datasets"


def _config() -> SearchConfig:
    """The project's params.yaml `search` section (defaults where it is missing)."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8")) or {}
    return SearchConfig.from_dict(params.get("search", {}))


def prepare(config: SearchConfig, rebuild: bool) -> Path:
    """Processed ml-latest-small + TMDB tables, embeddings and index under WORKDIR; returns the index folder."""
    processed = WORKDIR / "processed"
    if not (processed / "movies.parquet").exists():
        shared = _shared()
        tables, _ = load_dataset("ml-latest-small", shared / "ml-latest-small.zip", WORKDIR / "cache")
        movies, _ = enrich_movies(tables.movies, read_metadata_csv(shared / "ml-latest-small-tmdb.csv"))
        write_tables(processed, {**tables.as_dict(), "movies": movies}, {"name": "ml-latest-small", "metadata": True})
    tables = read_tables(processed)
    index_dir = WORKDIR / "index"
    manifest = index_dir / MANIFEST_FILE
    current = manifest.exists() and json.loads(manifest.read_text())["config"] == config.model_dump(mode="json")
    if rebuild or not current:
        model = load_sentence_model(config.encoder)
        embeddings = WORKDIR / "embeddings" / EMBEDDINGS_FILE
        report = embed_catalogue(tables["movies"], tables["tags"], config, embeddings, model)
        print(f"embed: {report.encoded} encoded, {report.reused} reused")
        built = build_index(tables["movies"], tables["tags"], tables["ratings"], embeddings, index_dir, config, model)
        print(f"index: {built.movies} movies in {built.seconds:.1f} s")
    return index_dir


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="Rebuild the index even when it is current.")
    parser.add_argument("--prepare-only", action="store_true", help="Build the index and stop.")
    args = parser.parse_args()
    prepare(_config(), args.rebuild)
