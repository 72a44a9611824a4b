"""Damaged artefacts are refused, never served (issue 31, part 1, "Integrity").

The defect: a checkpoint with flipped bytes loaded and answered (a model with corrupted weights gave 200 with a wrong
list while health stayed green; only the hybrid checked the digests of its component files), and a damaged FAISS
file took the whole search index down, lexical search and title suggestions with it. Now every artefact the server
loads (checkpoints, text embeddings, each file of the search index) carries the SHA-256 recorded when it was written
(`<file>.sha256`) and is checked against it when loaded: a damaged one is refused with a log line and a health entry
that names it in words (never a path), and its capability falls back (the model chain; the lexical and title
retrievers).

Each test damages a real copy of the session's artefacts (built by the real pipeline, tests/artefacts.py): a few
flipped bytes in the middle of the file (the case torch and FAISS do not notice) or a truncated file.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from movie_genie.api.app import create_app
from movie_genie.files import DamagedFileError, digest_path, record_digest, verify_digest
from movie_genie.models.catalogue import CATALOGUE
from movie_genie.models.checkpoint import CheckpointError, DamagedCheckpointError, load_checkpoint
from tests.artefacts import Artefacts

# Anything that tells a client how the server is laid out: a path, a file name, a module or a traceback.
_LEAKS = re.compile(r"/|\\|\.pt\b|\.npz\b|\.faiss\b|\.onnx\b|\.parquet\b|movie_genie\.|Traceback")


def flip_bytes(path: Path, count: int = 64) -> None:
    """Invert `count` bytes in the middle of the file (inside tensor or vector data: the loaders read it happily)."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    for offset in range(middle, min(middle + count, len(data))):
        data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    """Keep the first two thirds of the file (a copy cut short)."""
    path.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])


def _damaged_copy(artefacts: Artefacts, tmp_path: Path, relative: str) -> Path:
    """A copy of the artefacts folder whose file `relative` is a real copy (with its digest record) the test may
    damage. Returns that file's path."""
    damaged = artefacts.copy_with_own_file(tmp_path, relative)
    assert damaged.is_file() and digest_path(damaged).is_file(), f"the pipeline wrote no digest for {relative}"
    return damaged


def _app_on(artefacts: Artefacts, artifacts_dir: Path) -> Flask:
    app = create_app(artefacts.settings(), artefacts.with_artifacts_dir(artifacts_dir))
    app.config["TESTING"] = False  # errors through the JSON handlers, as in production
    app.validate_response = True  # type: ignore[attr-defined]
    return app


def _no_internals(response: Any, *hidden: str) -> None:
    text = response.get_data(as_text=True)
    for value in hidden:
        assert value not in text, text
    for value in _strings(response.get_json()):
        assert not _LEAKS.search(value), f"{value!r} in {text}"


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [str(k), *_strings(v)]]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


# --- the one digest rule ------------------------------------------------------------------------------------------


def test_a_checkpoint_with_flipped_bytes_or_cut_short_is_refused(artefacts: Artefacts, tmp_path: Path) -> None:
    """torch.load reads a checkpoint whose tensor bytes were flipped without complaint: the digest refuses it."""
    path = _damaged_copy(artefacts, tmp_path, "models/ease.pt")
    assert load_checkpoint(path).model == "ease"  # the intact copy loads
    flip_bytes(path)
    with pytest.raises(DamagedCheckpointError, match="damaged or truncated"):
        load_checkpoint(path)
    truncate(path)
    with pytest.raises(CheckpointError, match="damaged or truncated"):
        load_checkpoint(path)


def test_a_file_without_a_digest_loads_unverified_with_a_warning(
    artefacts: Artefacts, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Artefacts written before digests were recorded still serve; the log says they were not verified."""
    path = _damaged_copy(artefacts, tmp_path, "models/ease.pt")
    digest_path(path).unlink()
    with caplog.at_level(logging.WARNING, logger="movie_genie.files"):
        assert verify_digest(path) is False
        assert load_checkpoint(path).model == "ease"
    assert "no recorded digest" in caplog.text
    record_digest(path)  # `sha256sum`'s format: the same record an operator can check with `sha256sum -c`
    assert digest_path(path).read_text(encoding="ascii").endswith(f"  {path.name}\n")
    assert verify_digest(path) is True
    flip_bytes(path)
    with pytest.raises(DamagedFileError):
        verify_digest(path)


# --- a damaged model: refused, health names it, the chain serves -------------------------------------------------


@pytest.mark.parametrize("damage", [flip_bytes, truncate], ids=["flipped", "truncated"])
def test_a_damaged_checkpoint_is_refused_and_the_fallback_serves(
    artefacts: Artefacts, tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: Any
) -> None:
    """Two-Tower's checkpoint damaged: health stays ready (degraded) and names the model; its own list is a 503 in
    plain words; similar films come from the text embeddings with a note; the default list comes from the chain."""
    path = _damaged_copy(artefacts, tmp_path, "models/two_tower.pt")
    damage(path)
    with caplog.at_level(logging.ERROR):
        client = _app_on(artefacts, path.parents[1]).test_client()
    assert "two_tower" in caplog.text and "damaged" in caplog.text  # the log says which file, with its path

    health = client.get("/api/health")
    assert health.status_code == 200, health.get_data(as_text=True)
    data = health.get_json()["data"]
    assert data["status"] == "ready" and data["degraded"] is True
    check = data["checks"]["model:two_tower"]
    assert not check["ok"] and "damaged" in check["detail"] and "movie-genie train" in check["detail"]
    recommendations = data["capabilities"]["recommendations"]
    assert recommendations["ok"] and "two_tower" in recommendations["missing"]
    served_by = recommendations["served_by"]
    assert served_by in CATALOGUE.fallback() and served_by != "two_tower"
    similar = data["capabilities"]["similar_films"]
    assert similar["ok"] and similar["served_by"] == "content" and similar["missing"] == ["two_tower"]
    _no_internals(health, str(tmp_path))

    named = client.get("/api/recommendations?user_id=1&model=two_tower&k=5")
    assert named.status_code == 503 and "damaged" in named.get_json()["error"]["message"]
    _no_internals(named, str(tmp_path))
    default = client.get("/api/recommendations?user_id=1&k=5")
    assert default.status_code == 200, default.get_data(as_text=True)
    assert len(default.get_json()["data"]["items"]) == 5 and default.get_json()["meta"]["model"] == served_by
    films = client.get("/api/movies/1/similar?k=5").get_json()["data"]
    assert films["content"] and films["collaborative"] == [] and films["note"]


# --- a damaged FAISS file: lexical search and suggestions keep serving ---------------------------------------------


@pytest.mark.parametrize("damage", [flip_bytes, truncate], ids=["flipped", "truncated"])
def test_a_damaged_vector_index_leaves_lexical_search_and_suggestions_serving(
    artefacts: Artefacts, tmp_path: Path, damage: Any
) -> None:
    """The semantic retriever's vectors damaged: search answers by words and titles, suggestions answer, search by
    meaning is a 503 that says so; health is ready and names the missing retriever."""
    path = _damaged_copy(artefacts, tmp_path, "index/vectors.faiss")
    damage(path)
    client: FlaskClient = _app_on(artefacts, path.parents[1]).test_client()

    for mode in ("hybrid", "lexical", "title"):
        response = client.get(f"/api/search?q=star+wars&mode={mode}&k=5")
        assert response.status_code == 200, (mode, response.get_data(as_text=True))
        items = response.get_json()["data"]["items"]
        assert items and items[0]["movie"]["title"] == "Star Wars", (mode, items)
        assert all("semantic" not in item["matched_by"] for item in items)
    suggest = client.get("/api/search/suggest?q=star")
    assert suggest.status_code == 200 and suggest.get_json()["data"], suggest.get_data(as_text=True)

    semantic = client.get("/api/search?q=space+adventure&mode=semantic")
    assert semantic.status_code == 503
    message = semantic.get_json()["error"]["message"]
    assert "damaged" in message and "movie-genie index" in message and "other search modes" in message
    _no_internals(semantic, str(tmp_path))

    health = client.get("/api/health")
    assert health.status_code == 200, health.get_data(as_text=True)
    data = health.get_json()["data"]
    search = data["capabilities"]["search"]
    assert search["ok"] and search["served_by"] == "search_index" and search["missing"] == ["semantic"]
    assert "semantic retriever" in search["detail"] and "damaged" in search["detail"]
    assert data["degraded"] and not data["checks"]["search_index"]["ok"]
    _no_internals(health, str(tmp_path))


def test_a_damaged_search_catalogue_refuses_the_index_in_plain_words(artefacts: Artefacts, tmp_path: Path) -> None:
    """The files every retriever needs (the catalogue) damaged: search is not ready, and health says so."""
    path = _damaged_copy(artefacts, tmp_path, "index/catalogue.parquet")
    flip_bytes(path, count=8)
    client = _app_on(artefacts, path.parents[1]).test_client()
    health = client.get("/api/health")
    assert health.status_code == 503
    search = health.get_json()["data"]["capabilities"]["search"]
    assert not search["ok"] and "damaged" in search["detail"] and "movie-genie index" in search["detail"]
    _no_internals(health, str(tmp_path))
    assert client.get("/api/search?q=star+wars").status_code == 503


def test_damaged_text_embeddings_are_refused_and_similar_films_fall_back(artefacts: Artefacts, tmp_path: Path) -> None:
    """The text embeddings (content neighbours) damaged: films like a film come from Two-Tower alone."""
    path = _damaged_copy(artefacts, tmp_path, "embeddings/embeddings.npz")
    flip_bytes(path)
    client = _app_on(artefacts, path.parents[1]).test_client()
    health = client.get("/api/health").get_json()["data"]
    similar = health["capabilities"]["similar_films"]
    assert similar["ok"] and similar["served_by"] == "two_tower" and similar["missing"] == ["content"]
    assert "damaged" in similar["detail"]
    films = client.get("/api/movies/1/similar?k=5").get_json()["data"]
    assert films["collaborative"] and films["content"] == []
