"""What the services say about the artefact files they load: a short content hash (each model's version, part of
cache keys) and the message /api/health shows for a file that failed to load (in plain words: the file's path and
the exception go to the server log, never into a response)."""

from __future__ import annotations

from pathlib import Path

from movie_genie.files import DamagedFileError, content_digest


def file_version(path: Path) -> str:
    """A short content hash of an artefact (the first 12 hex digits of `files.content_digest`): changes whenever the
    file is retrained; "unknown" when there is no such file."""
    if not path.is_file():
        return "unknown"
    return content_digest(path)[:12]


def unreadable(what: str, stage: str, error: BaseException | None = None) -> str:
    """What /api/health says about an artefact (`what`: "the search index") that failed to load with an unexpected
    `error`: damaged (its bytes differ from the digest recorded when it was written) or unreadable; the caller logs
    the path and the error."""
    if damaged(error):
        return (
            f"{what} is damaged (it does not match the digest recorded when it was written): "
            f"re-run `movie-genie {stage}`"
        )
    return f"{what} is unreadable: re-run `movie-genie {stage}`"


def damaged(error: BaseException | None) -> bool:
    """Whether `error` (or what caused it) is a digest mismatch."""
    while error is not None:
        if isinstance(error, DamagedFileError):
            return True
        error = error.__cause__
    return False
