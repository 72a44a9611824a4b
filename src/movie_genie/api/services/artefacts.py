"""What the services say about the artefact files they load: a short content hash (each model's version, part of
cache keys) and the message /api/health shows for a file that failed to load (in plain words: the file's path and
the exception go to the server log, never into a response)."""

from __future__ import annotations

from pathlib import Path

from movie_genie.models.checkpoint import file_digest


def file_version(path: Path) -> str:
    """A short content hash of an artefact (the first 12 hex digits of its SHA-256): changes whenever the file is
    retrained; "unknown" when there is no such file."""
    if not path.is_file():
        return "unknown"
    return file_digest(path)[:12]


def unreadable(what: str, stage: str) -> str:
    """What /api/health says about an artefact (`what`: "the search index") that failed to load with an unexpected
    error; the caller logs the path and the error."""
    return f"{what} is unreadable: re-run `movie-genie {stage}`"
