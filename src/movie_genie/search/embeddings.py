"""artifacts/embeddings/embeddings.npz: one sentence vector per movie document.

File contract (models read it as an optional item feature, so keep it exactly):
    movie_id   int64   [n]
    embedding  float32 [n, 384], L2-normalised
    text_hash  str     [n]   sha256 of encoder settings + document text (see documents.document_hash)
A rebuild re-encodes only documents whose hash changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from movie_genie.errors import DataError
from movie_genie.files import DamagedFileError, atomic_path, verify_digest
from movie_genie.search.config import EncoderConfig
from movie_genie.search.documents import MovieDocument, document_hash
from movie_genie.search.encoder import EMBEDDING_DIM

EMBEDDINGS_FILE = "embeddings.npz"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Embeddings:
    """The arrays of embeddings.npz, rows aligned."""

    movie_id: np.ndarray  # int64 [n]
    embedding: np.ndarray  # float32 [n, 384]
    text_hash: np.ndarray  # str [n]


@dataclass(frozen=True)
class EmbedReport:
    """What an embed run did."""

    total: int
    encoded: int
    reused: int
    path: Path


def read_embeddings(path: Path) -> Embeddings:
    """Load and check embeddings.npz; raise DataError when it is damaged (its digest) or malformed."""
    try:
        verify_digest(path)
        with np.load(path, allow_pickle=False) as data:
            movie_id, embedding = data["movie_id"], data["embedding"]
            text_hash = data["text_hash"] if "text_hash" in data else np.full(len(movie_id), "", dtype="<U64")
    except (OSError, KeyError, ValueError, DamagedFileError) as exc:
        raise DataError(
            f"{path} is not a valid embeddings file ({exc}): delete it and run `movie-genie embed`"
        ) from exc
    n = len(movie_id)
    if embedding.shape != (n, EMBEDDING_DIM) or len(text_hash) != n:
        raise DataError(f"{path} has inconsistent shapes: delete it and run `movie-genie embed`")
    return Embeddings(movie_id.astype(np.int64), embedding.astype(np.float32), text_hash.astype(str))


def write_embeddings(path: Path, emb: Embeddings) -> None:
    """Write atomically (temp file + rename), so a crash never leaves a half-written file; record its digest."""
    with atomic_path(path, suffix=".npz", digest=True) as tmp:  # np.savez would append .npz to a name without it
        np.savez(tmp, movie_id=emb.movie_id, embedding=emb.embedding, text_hash=emb.text_hash)


def embed_documents(
    docs: Sequence[MovieDocument],
    config: EncoderConfig,
    path: Path,
    encode: Callable[[list[str]], np.ndarray],
) -> EmbedReport:
    """Embed `docs` into `path`, reusing rows of an existing file whose text hash is unchanged.

    `encode(texts) -> float32 [len(texts), 384]` is called once with only the new or changed texts.
    """
    hashes = [document_hash(d.text, config) for d in docs]
    previous: dict[str, np.ndarray] = {}
    if path.exists():
        try:
            old = read_embeddings(path)
            previous = {h: old.embedding[i] for i, h in enumerate(old.text_hash) if h}
        except DataError as exc:
            log.warning("ignoring the old embeddings: %s", exc)
    todo = [i for i, h in enumerate(hashes) if h not in previous]
    matrix = np.zeros((len(docs), EMBEDDING_DIM), dtype=np.float32)
    for i, h in enumerate(hashes):
        if h in previous:
            matrix[i] = previous[h]
    if todo:
        fresh = encode([docs[i].text for i in todo])
        matrix[todo] = fresh
    emb = Embeddings(
        movie_id=np.array([d.movie_id for d in docs], dtype=np.int64),
        embedding=matrix,
        text_hash=np.array(hashes, dtype="<U64"),
    )
    write_embeddings(path, emb)
    return EmbedReport(total=len(docs), encoded=len(todo), reused=len(docs) - len(todo), path=path)
