"""Errors a search caller can act on; the API maps them to 400/404 responses, the CLI prints them."""

from __future__ import annotations

from movie_genie.errors import ArtifactMissingError, MovieGenieError


class SearchInputError(MovieGenieError):
    """A query, mode, k or filter value is invalid; the message says which value and what is allowed."""


class IndexMissingError(ArtifactMissingError):
    """The search index (or the embeddings it is built from) is missing or stale: run the stage named."""
