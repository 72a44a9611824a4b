"""Errors a user can act on. The CLI prints their message (no traceback) and exits non-zero; the API answers those
caused by a client's input with 4xx JSON bodies and the others (the server's state) with a 5xx (api/errors.py). Each
message says what was wrong and what to do."""

from __future__ import annotations


class MovieGenieError(Exception):
    """Base class of every error caused by input or environment rather than a bug."""


class DataError(MovieGenieError):
    """A data set could not be fetched, verified or read (bad name, checksum, corrupt file, malformed row)."""


class ArtifactMissingError(MovieGenieError):
    """A pipeline output (tables, split, checkpoint, index) is missing: run the stage that makes it."""
