"""Writing files so a reader never sees half of one: the one atomic-write rule of the project; and the one digest
rule of the artefacts the server loads.

Every output a reader may open while it is being written (checkpoints, reports, the serving state, search indexes,
parquet tables) is written to a temporary sibling and renamed over the target in one step: a reader sees the old
complete file or the new complete one, and a crash leaves no half-written file behind.

Digests: an artefact written with `digest=True` (checkpoints, embeddings, every file of the search index) gets a
sidecar `<file>.sha256` in `sha256sum`'s format, and its loader calls `verify_digest` before reading it, so a file
whose bytes changed since it was written (a flipped bit, a truncated copy) is refused instead of served. A file
without a sidecar (written before digests were recorded) still loads, with a warning in the log. The sidecar guards
against damage, not against someone who can write the folder (they can rewrite the sidecar too).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

DIGEST_SUFFIX = ".sha256"


class DamagedFileError(Exception):
    """A file's bytes differ from the SHA-256 recorded when it was written: it is damaged or truncated."""


@contextmanager
def atomic_path(target: Path, suffix: str = "", *, digest: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside `target` to write to; on success it replaces `target`, on error it is removed.

    `suffix` is for writers that insist on an extension (numpy adds `.npz` when the name lacks it). With `digest`,
    the file's SHA-256 is recorded beside it (`<target>.sha256`).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".tmp{suffix}", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        if digest:
            written = file_digest(tmp)
            # No sidecar while the file is swapped: a reader meanwhile loads it unverified, never refuses a good one.
            digest_path(target).unlink(missing_ok=True)
            tmp.replace(target)
            record_digest(target, written)
        else:
            tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomically(target: Path, text: str) -> None:
    """Write `text` (UTF-8) to `target` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


@contextmanager
def atomic_dir(target: Path, *, digests: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling folder; on success it replaces `target`, on any error it is removed.

    Readers therefore see either the old complete folder or the new complete one, never a half-written mix. With
    `digests`, every file's SHA-256 is recorded beside it before the swap (so files and digests arrive together).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}"
    old = target.parent / f".{target.name}.old-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
        if digests:
            for path in _artefact_files(tmp):
                record_digest(path)
        if target.exists():
            target.rename(old)
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not target.exists():
            old.rename(target)  # put the previous output back
        raise
    shutil.rmtree(old, ignore_errors=True)


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, hex."""
    with Path(path).open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def digest_path(path: Path) -> Path:
    """Where the digest of `path` is recorded: `<file>.sha256` beside it."""
    return path.with_name(path.name + DIGEST_SUFFIX)


def record_digest(path: Path, digest: str | None = None) -> None:
    """Record the SHA-256 of `path` (computed unless given) beside it, atomically, in `sha256sum`'s format (so
    `sha256sum -c <file>.sha256` checks it too)."""
    write_text_atomically(digest_path(path), f"{digest or file_digest(path)}  {path.name}\n")


def recorded_digest(path: Path) -> str | None:
    """The SHA-256 recorded when `path` was written; None when none was (a file older than digests); "" when the
    record itself is unreadable (which no file matches)."""
    try:
        words = digest_path(path).read_text(encoding="ascii").split()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        return ""
    return words[0].lower() if words else ""


def content_digest(path: Path) -> str:
    """The SHA-256 that names a file's content: the one recorded when it was written (its loader checks the bytes
    against it), else computed from the bytes (a file older than digests). Cheap for large checkpoints."""
    return recorded_digest(path) or file_digest(path)


def verify_digest(path: Path) -> bool:
    """Check `path` against its recorded SHA-256 before it is read: True when it matches; False when nothing was
    recorded (logged: it loads unverified) or there is no such file (its reader says so); DamagedFileError when the
    bytes differ."""
    path = Path(path)
    if not path.is_file():
        return False
    expected = recorded_digest(path)
    if expected is None:
        log.warning("%s has no recorded digest (written before digests were kept): loaded unverified", path)
        return False
    if file_digest(path) != expected:
        raise DamagedFileError(
            f"{path} does not match the SHA-256 recorded when it was written: it is damaged or truncated"
        )
    return True


def verify_digests(folder: Path) -> bool:
    """`verify_digest` for every file under `folder`: True when all had a digest and matched."""
    return all([verify_digest(path) for path in _artefact_files(Path(folder))])


def _artefact_files(folder: Path) -> list[Path]:
    """The files under `folder` that are not digest records, sorted."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(DIGEST_SUFFIX))
