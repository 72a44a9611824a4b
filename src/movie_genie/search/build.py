"""The two pipeline stages of search: `embed` (documents -> embeddings.npz) and `index` (embeddings + documents ->
artifacts/index/: FAISS, BM25, catalogue with rating counts, ONNX encoder, manifest).

Both take DataFrames in the canonical schema (data/schema.py), so tests can pass a slice of real movies.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from movie_genie.data.tables import read_parquet
from movie_genie.files import atomic_dir
from movie_genie.search.config import SearchConfig
from movie_genie.search.documents import ENCODER_ID, MovieDocument, build_documents, document_hash
from movie_genie.search.embeddings import EmbedReport, embed_documents, read_embeddings
from movie_genie.search.encoder import OnnxEncoder, embed_texts, export_onnx
from movie_genie.search.errors import IndexMissingError
from movie_genie.search.fields import field_columns
from movie_genie.search.lexical import LexicalIndex
from movie_genie.search.vector import build_vector_index, save_vector_index

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

INDEX_VERSION = 2  # 2: the catalogue holds the people, tags and keywords fields (fields.py)
MANIFEST_FILE = "manifest.json"
CATALOGUE_FILE = "catalogue.parquet"
VECTORS_FILE = "vectors.faiss"
BM25_DIR = "bm25"
COLLAB_FILE = "collab.npy"
# How many real titles the index stage re-embeds with ONNX to record its agreement with torch in the manifest.
_AGREEMENT_SAMPLE = 64


@dataclass(frozen=True)
class IndexReport:
    """What an index run built."""

    path: Path
    movies: int
    vector_index: str
    onnx_min_cosine: float
    seconds: float


def embed_catalogue(
    movies: pd.DataFrame,
    tags: pd.DataFrame | None,
    config: SearchConfig,
    out_path: Path,
    model: SentenceTransformer,
    progress: bool = True,
) -> EmbedReport:
    """Embed every movie document into out_path (embeddings.npz), re-encoding only changed documents."""
    docs = build_documents(movies, tags, config.encoder)
    return embed_documents(
        docs,
        config.encoder,
        out_path,
        lambda texts: embed_texts(model, texts, config.encoder.batch_size, progress=progress),
    )


def read_search_inputs(processed_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]:
    """The processed tables search reads: movies, and tags and ratings where the data set has them."""
    movies = read_parquet(processed_dir / "movies.parquet")
    optional = {}
    for name in ("tags", "ratings"):
        path = processed_dir / f"{name}.parquet"
        optional[name] = read_parquet(path) if path.exists() else None
    return movies, optional["tags"], optional["ratings"]


def rating_counts(ratings: pd.DataFrame | None, movie_ids: np.ndarray) -> np.ndarray:
    """Number of ratings per movie, aligned with movie_ids: int64 [n] (zeros when there are no ratings)."""
    if ratings is None or ratings.empty:
        return np.zeros(len(movie_ids), dtype=np.int64)
    counts = ratings["movie_id"].astype("int64").value_counts()
    return counts.reindex(movie_ids, fill_value=0).to_numpy(dtype=np.int64)


def rating_means(ratings: pd.DataFrame | None, movie_ids: np.ndarray) -> np.ndarray:
    """Mean rating per movie aligned with movie_ids: float64 [n] (NaN where unrated); the engine damps it."""
    if ratings is None or ratings.empty:
        return np.full(len(movie_ids), np.nan)
    means = ratings.groupby(ratings["movie_id"].astype("int64"))["rating"].mean()
    return means.reindex(movie_ids).to_numpy(dtype=np.float64)


def collab_vectors(ratings: pd.DataFrame | None, movie_ids: np.ndarray, dim: int) -> np.ndarray | None:
    """Unit-norm item vectors float32 [n, dim] from a truncated SVD of the binary who-rated-what matrix.

    Rows align with movie_ids; unrated films get zero rows. None without ratings or with dim 0.
    """
    if ratings is None or ratings.empty or dim <= 0:
        return None
    from scipy.sparse import csr_matrix
    from scipy.sparse.linalg import svds

    row_of = {int(m): i for i, m in enumerate(movie_ids)}
    pairs = ratings[["user_id", "movie_id"]].drop_duplicates()
    pairs = pairs[pairs["movie_id"].isin(row_of)]
    users = {int(u): j for j, u in enumerate(pairs["user_id"].unique())}
    rows = pairs["movie_id"].map(row_of).to_numpy(dtype=np.int64)
    cols = pairs["user_id"].map(users).to_numpy(dtype=np.int64)
    matrix = csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(movie_ids), len(users)))
    # Damp heavy users: each user's column divided by sqrt(ratings), so a 2,000-film rater does not dominate.
    per_user = np.asarray(matrix.sum(axis=0)).ravel()
    matrix = matrix @ _diag(1.0 / np.sqrt(np.maximum(per_user, 1.0)))
    k = min(dim, min(matrix.shape) - 1)
    if k < 1:
        return None
    u, sigma, _ = svds(matrix.astype(np.float64), k=k, random_state=0)
    vectors = (u * np.sqrt(sigma)).astype(np.float32)  # [n, k]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.where(norms > 0, vectors / np.maximum(norms, 1e-12), 0.0).astype(np.float32)


def _diag(values: np.ndarray) -> object:
    from scipy.sparse import diags

    return diags(values.astype(np.float32))


def _aligned_vectors(docs: list[MovieDocument], embeddings_path: Path, config: SearchConfig) -> np.ndarray:
    """Rows of embeddings.npz in document order; refuse stale or partial files."""
    if not embeddings_path.exists():
        raise IndexMissingError(f"{embeddings_path} not found: run `movie-genie embed` first")
    emb = read_embeddings(embeddings_path)
    row_of = {int(m): i for i, m in enumerate(emb.movie_id)}
    rows = np.empty(len(docs), dtype=np.int64)
    stale = 0
    for i, doc in enumerate(docs):
        j = row_of.get(doc.movie_id)
        if j is None or emb.text_hash[j] != document_hash(doc.text, config.encoder):
            stale += 1
            continue
        rows[i] = j
    if stale:
        raise IndexMissingError(
            f"{embeddings_path} is stale: {stale} of {len(docs)} movies are missing or changed; run `movie-genie embed`"
        )
    return emb.embedding[rows]


def build_index(
    movies: pd.DataFrame,
    tags: pd.DataFrame | None,
    ratings: pd.DataFrame | None,
    embeddings_path: Path,
    out_dir: Path,
    config: SearchConfig,
    model: SentenceTransformer,
) -> IndexReport:
    """Build every search artefact into a temporary folder, then swap it into out_dir in one rename."""
    start = time.perf_counter()
    docs = build_documents(movies, tags, config.encoder)
    if not docs:
        raise IndexMissingError("the movies table is empty: run `movie-genie data` and `movie-genie enrich`")
    vectors = _aligned_vectors(docs, embeddings_path, config)  # [n, 384]
    movie_ids = np.array([d.movie_id for d in docs], dtype=np.int64)

    with atomic_dir(out_dir, digests=True) as tmp:
        catalogue = pd.DataFrame(
            {
                "movie_id": movie_ids,
                "title": [d.title for d in docs],
                "year": pd.array([d.year for d in docs], dtype="Int64"),
                "genres": [list(d.genres) for d in docs],
                "rating_count": rating_counts(ratings, movie_ids),
                "rating_mean": rating_means(ratings, movie_ids),
                **field_columns(movies, tags, config.encoder.max_tags),
            }
        )
        catalogue.to_parquet(tmp / CATALOGUE_FILE, index=False)

        vector_index = build_vector_index(vectors, config.vector)
        save_vector_index(vector_index, tmp / VECTORS_FILE)
        LexicalIndex.build(docs, config.lexical).save(tmp / BM25_DIR)
        collab = collab_vectors(ratings, movie_ids, config.collab.dim)
        if collab is not None:
            np.save(tmp / COLLAB_FILE, collab)

        export_onnx(model, tmp, config.onnx)
        # Record how closely the query-time ONNX encoder reproduces the torch vectors on real titles.
        sample = [d.display_title for d in docs[:: max(1, len(docs) // _AGREEMENT_SAMPLE)]][:_AGREEMENT_SAMPLE]
        onnx_vectors = OnnxEncoder.load(tmp, config.encoder, config.onnx).encode(sample)
        torch_vectors = embed_texts(model, sample, config.encoder.batch_size)
        min_cosine = float((onnx_vectors * torch_vectors).sum(axis=1).min())

        manifest = {
            "version": INDEX_VERSION,
            "encoder": ENCODER_ID,
            "movies": len(docs),
            "vector_index": type(vector_index).__name__,
            "onnx_int8": config.onnx.quantize_int8,
            "onnx_min_cosine_vs_torch": min_cosine,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "config": config.model_dump(mode="json"),
        }
        (tmp / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")

    return IndexReport(
        path=out_dir,
        movies=len(docs),
        vector_index=type(vector_index).__name__,
        onnx_min_cosine=min_cosine,
        seconds=time.perf_counter() - start,
    )
