"""Registry, checksum-verified downloads (against a loopback HTTP server) and source resolution."""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from movie_genie.data.sources import REGISTRY, DatasetSpec, download, get_spec, resolve_source
from movie_genie.errors import DataError

from .conftest import TINY_CSV, make_zip


@pytest.fixture
def http_folder(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A static file server on 127.0.0.1 serving a temporary folder: (base URL, folder)."""
    root = tmp_path / "www"
    root.mkdir()

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


def test_registry_names_and_urls() -> None:
    assert list(REGISTRY) == ["ml-100k", "ml-latest-small", "ml-1m", "ml-25m", "ml-32m"]
    for spec in REGISTRY.values():
        assert spec.url == f"https://files.grouplens.org/datasets/movielens/{spec.name}.zip"
        assert spec.known_hash is None or spec.known_hash.startswith("md5:")


def test_unknown_dataset_lists_valid_names() -> None:
    with pytest.raises(DataError, match="unknown data set 'ml-10k'; choose one of: ml-100k, ml-latest-small, ml-1m"):
        get_spec("ml-10k")


def test_download_verifies_checksum(http_folder: tuple[str, Path], tmp_path: Path) -> None:
    base, root = http_folder
    archive = make_zip(root / "ml-tiny.zip", "ml-tiny", TINY_CSV)
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    spec = DatasetSpec("ml-tiny", f"{base}/ml-tiny.zip", f"md5:{md5}", "tiny")
    cache = tmp_path / "cache"
    path = download(spec, cache)
    assert path == cache / "ml-tiny.zip" and path.read_bytes() == archive.read_bytes()
    assert sorted(p.name for p in cache.iterdir()) == ["ml-tiny.zip"]  # no temporary files left behind


def test_download_uses_published_md5_when_none_is_pinned(http_folder: tuple[str, Path], tmp_path: Path) -> None:
    base, root = http_folder
    archive = make_zip(root / "ml-tiny.zip", "ml-tiny", TINY_CSV)
    (root / "ml-tiny.zip.md5").write_text(f"MD5 (ml-tiny.zip) = {hashlib.md5(archive.read_bytes()).hexdigest()}\n")
    assert download(DatasetSpec("ml-tiny", f"{base}/ml-tiny.zip", None, "tiny"), tmp_path).exists()


def test_checksum_mismatch_removes_the_file(http_folder: tuple[str, Path], tmp_path: Path) -> None:
    base, root = http_folder
    make_zip(root / "ml-tiny.zip", "ml-tiny", TINY_CSV)
    spec = DatasetSpec("ml-tiny", f"{base}/ml-tiny.zip", "md5:" + "0" * 32, "tiny")
    with pytest.raises(DataError, match=r"checksum mismatch for .*ml-tiny\.zip: expected md5 0{32}, got [0-9a-f]{32}"):
        download(spec, tmp_path)
    assert not (tmp_path / "ml-tiny.zip").exists()


def test_download_failure_says_what_to_do(http_folder: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = http_folder
    spec = DatasetSpec("ml-tiny", f"{base}/missing.zip", "md5:" + "0" * 32, "tiny")
    cache = tmp_path / "cache"
    with pytest.raises(DataError, match=r"could not download .*missing\.zip.*pass --source PATH"):
        download(spec, cache)
    assert list(cache.iterdir()) == []


def test_local_source(tmp_path: Path, shared_datasets: Path) -> None:
    resolved = resolve_source("ml-latest-small", shared_datasets / "ml-latest-small.zip", tmp_path)
    assert resolved.kind == "grouplens" and resolved.path == shared_datasets / "ml-latest-small.zip"
    with pytest.raises(DataError, match="does not exist"):
        resolve_source("ml-100k", tmp_path / "nope.zip", tmp_path)
