"""Errors of the database layer. Each is a MovieGenieError: the CLI prints it, the API maps it to a 4xx/503 body."""

from __future__ import annotations

from movie_genie.errors import MovieGenieError


class DatabaseUnavailableError(MovieGenieError):
    """The database cannot be reached or answered with an error (the API maps this to 503)."""


class SchemaOutOfDateError(MovieGenieError):
    """The database schema is not at the migration head: run `movie-genie db upgrade`."""


class NotFoundError(MovieGenieError):
    """A requested row does not exist (the API maps this to 404)."""


class UserNotFoundError(NotFoundError):
    """No user with the given id."""


class MovieNotFoundError(NotFoundError):
    """One or more movie ids are not in the catalogue."""


class InvalidInputError(MovieGenieError):
    """A value passed to the database layer is out of range or malformed (the API maps this to 400)."""


class InvalidFeedbackError(InvalidInputError):
    """Feedback with an unknown kind or a rating value outside 0.5..5 in half steps."""
