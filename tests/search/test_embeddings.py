"""embeddings.npz: the file contract teammates read, and re-use of unchanged documents."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from movie_genie.errors import DataError
from movie_genie.search.config import EncoderConfig
from movie_genie.search.documents import MovieDocument
from movie_genie.search.embeddings import embed_documents, read_embeddings
from movie_genie.search.encoder import embed_texts


def test_file_matches_the_contract(small_index) -> None:
    with np.load(small_index.embeddings, allow_pickle=False) as data:
        assert set(data.files) == {"movie_id", "embedding", "text_hash"}
        ids, vectors, hashes = data["movie_id"], data["embedding"], data["text_hash"]
    n = len(small_index.movies)
    assert ids.dtype == np.int64 and ids.shape == (n,)
    assert vectors.dtype == np.float32 and vectors.shape == (n, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert hashes.shape == (n,) and all(len(h) == 64 for h in hashes)
    assert ids.tolist() == small_index.movies["movie_id"].tolist()


class _CountingEncoder:
    """Wraps the real torch encoder and records how many texts each call encoded."""

    def __init__(self, model) -> None:
        self.model = model
        self.calls: list[int] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls.append(len(texts))
        return embed_texts(self.model, texts, batch_size=16)


def _docs() -> list[MovieDocument]:
    return [
        MovieDocument(1, "Toy Story", 1995, ("Animation",), "Toy Story (1995). Toys come alive."),
        MovieDocument(2, "Heat", 1995, ("Crime",), "Heat (1995). A heist crew and a detective."),
        MovieDocument(3, "Alien", 1979, ("Horror",), "Alien (1979). A creature hunts a ship's crew."),
    ]


def test_unchanged_documents_are_reused(sentence_model, tmp_path: Path) -> None:
    path = tmp_path / "embeddings.npz"
    encoder = _CountingEncoder(sentence_model)
    config = EncoderConfig()
    first = embed_documents(_docs(), config, path, encoder)
    assert (first.encoded, first.reused) == (3, 0)
    before = read_embeddings(path)

    second = embed_documents(_docs(), config, path, encoder)
    assert (second.encoded, second.reused) == (0, 3)
    assert encoder.calls == [3]  # nothing was encoded the second time

    changed = _docs()
    changed[1] = MovieDocument(2, "Heat", 1995, ("Crime",), "Heat (1995). A detective hunts a thief in LA.")
    third = embed_documents(changed, config, path, encoder)
    assert (third.encoded, third.reused) == (1, 2)
    after = read_embeddings(path)
    np.testing.assert_array_equal(after.embedding[[0, 2]], before.embedding[[0, 2]])
    assert float(after.embedding[1] @ before.embedding[1]) < 0.99


def test_a_corrupt_old_file_is_replaced_not_fatal(sentence_model, tmp_path: Path) -> None:
    path = tmp_path / "embeddings.npz"
    path.write_bytes(b"not a zip")
    report = embed_documents(_docs(), EncoderConfig(), path, _CountingEncoder(sentence_model))
    assert report.encoded == 3 and read_embeddings(path).movie_id.tolist() == [1, 2, 3]
    assert not list(tmp_path.glob("*.tmp*"))  # the write went through a temp file and a rename


def test_read_rejects_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"garbage")
    with pytest.raises(DataError, match="movie-genie embed"):
        read_embeddings(bad)
    wrong_shape = tmp_path / "shape.npz"
    np.savez(wrong_shape, movie_id=np.arange(3), embedding=np.zeros((3, 10), np.float32))
    with pytest.raises(DataError, match="inconsistent shapes"):
        read_embeddings(wrong_shape)
