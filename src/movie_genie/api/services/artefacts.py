"""What the services say about the artefact files they load: a short content hash (each model's version, part of
cache keys) and the message /api/health shows for a file that failed to load."""

from __future__ import annotations

from pathlib import Path

from movie_genie.models.checkpoint import file_digest


def file_version(path: Path) -> str:
    """A short content hash of an artefact (the first 12 hex digits of its SHA-256): changes whenever the file is
    retrained; "unknown" when there is no such file."""
    if not path.is_file():
        return "unknown"
    return file_digest(path)[:12]


def unreadable(path: Path, exc: BaseException, stage: str) -> str:
    """What /api/health says about an artefact that failed to load with an unexpected error."""
    reason = (str(exc).strip().splitlines() or [""])[0][:300]
    return f"{path} is unreadable ({type(exc).__name__}: {reason}): re-run `movie-genie {stage}`"
