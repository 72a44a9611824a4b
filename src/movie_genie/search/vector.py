"""FAISS inner-product index over unit vectors (inner product = cosine): exact for small catalogues, HNSW above
`vector.hnsw_min_movies`. Filtered search passes a bitmap of allowed rows to FAISS, so a narrow filter still
returns its best matches instead of an empty page."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from movie_genie.search.config import VectorConfig
from movie_genie.search.errors import IndexMissingError


def build_vector_index(vectors: np.ndarray, config: VectorConfig) -> faiss.Index:
    """Index float32 [n, d] unit vectors; row i of `vectors` gets FAISS id i."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    index: faiss.Index
    if n >= config.hnsw_min_movies:
        index = faiss.IndexHNSWFlat(dim, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = config.hnsw_ef_construction
    else:
        index = faiss.IndexFlatIP(dim)
    index.add(vectors)
    return index


def save_vector_index(index: faiss.Index, path: Path) -> None:
    """Write the index with FAISS's own serialiser."""
    faiss.write_index(index, str(path))


def load_vector_index(path: Path) -> faiss.Index:
    """Read an index written by `save_vector_index`."""
    if not path.exists():
        raise IndexMissingError(f"{path} not found: run `movie-genie index`")
    return faiss.read_index(str(path))


# Below this many allowed rows a filtered search scores them exactly: cheaper than graph search, and HNSW with a
# selector can miss allowed rows when they are scattered thinly over the graph.
EXACT_FILTER_ROWS = 4096


def vector_search(
    index: faiss.Index, query: np.ndarray, k: int, ef_search: int, allowed: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k rows by cosine for one query vector [d] -> (rows int64 [<=k], scores float32 [<=k]), best first."""
    k = min(k, index.ntotal)
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)  # [1, d]
    if allowed is not None:
        ids = np.flatnonzero(allowed)
        if ids.size <= EXACT_FILTER_ROWS:
            vectors = index.reconstruct_batch(ids) if ids.size else np.zeros((0, query.shape[1]), np.float32)
            sims = vectors @ query[0]  # [n_allowed]
            top = np.argsort(-sims, kind="stable")[:k]
            return ids[top].astype(np.int64), sims[top].astype(np.float32)
    is_hnsw = isinstance(index, faiss.IndexHNSW)
    hnsw_params = faiss.SearchParametersHNSW  # type: ignore[attr-defined]  # missing from faiss's stubs
    params = None
    bitmap = None
    if allowed is not None:
        # FAISS reads bit (i & 7) of byte (i >> 3): little-endian bit order. Keep `bitmap` alive during search.
        bitmap = np.packbits(allowed.astype(np.uint8), bitorder="little")
        selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bitmap))
        params = hnsw_params(sel=selector, efSearch=ef_search) if is_hnsw else faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
    elif is_hnsw:
        params = hnsw_params(efSearch=ef_search)
    scores, rows = index.search(query, k, params=params)
    del bitmap
    keep = rows[0] >= 0  # FAISS pads with -1 when fewer than k rows pass the filter
    return rows[0][keep].astype(np.int64), scores[0][keep].astype(np.float32)
