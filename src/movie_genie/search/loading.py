"""The parts of a search index the engine can serve without: the semantic retriever (FAISS vectors and the ONNX
query encoder) and the who-rated-what vectors. Each is checked against the digests recorded when the index was
written; a damaged or unreadable part is left out with its reason, and the lexical and title retrievers serve on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

from movie_genie.files import verify_digest
from movie_genie.search.build import VECTORS_FILE
from movie_genie.search.config import SearchConfig
from movie_genie.search.encoder import ONNX_FILE, TOKENIZER_FILE, OnnxEncoder
from movie_genie.search.vector import load_vector_index

T = TypeVar("T")


def load_semantic(index_dir: Path, config: SearchConfig) -> tuple[object, OnnxEncoder]:
    """The semantic retriever's FAISS vectors and query encoder, each file checked against its digest."""
    for name in (VECTORS_FILE, ONNX_FILE, TOKENIZER_FILE):
        verify_digest(index_dir / name)
    return load_vector_index(index_dir / VECTORS_FILE), OnnxEncoder.load(index_dir, config.encoder, config.onnx)


def load_collab(path: Path) -> np.ndarray | None:
    """Who-rated-what vectors float32 [n, d] (None when the index has none), checked against their digest."""
    if not path.exists():
        return None
    verify_digest(path)
    return np.asarray(np.load(path))


def optional(name: str, unavailable: dict[str, Exception], load: Callable[[], T]) -> T | None:
    """`load()`, or None with the error (its text names files: for the log) kept in `unavailable[name]` when a
    file is damaged or unreadable."""
    try:
        return load()
    except Exception as exc:  # faiss, onnxruntime and numpy raise many types for a damaged file
        unavailable[name] = exc
        return None
