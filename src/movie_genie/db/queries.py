"""What the query modules (movies, users, user_stats, feedback, profiles) share: a page of results, checks of ids
and paging, IN lists in chunks, the commit that turns a locked database into a 503, and time zones.

The query modules take a Session and return plain frozen dataclasses. Reads never touch more rows than the answer
needs (paging in SQL, one grouped query per page for stats, no N+1). Writes validate everything first, then commit;
on any error they roll back, so nothing is ever half-written. Errors are MovieGenieError subclasses from
db/errors.py (NotFoundError -> 404, InvalidInputError -> 400, DatabaseUnavailableError -> 503).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from movie_genie.db.errors import DatabaseUnavailableError, InvalidInputError, MovieNotFoundError, UserNotFoundError
from movie_genie.db.models import MAX_ID, MIN_ID, Movie, User

T = TypeVar("T")
MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000  # keeps OFFSET within 64-bit integers on every backend
_IN_CHUNK = 900  # ids per IN (...) list: well under SQLite's bound-parameter limit


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results and the total number of matches."""

    items: list[T]
    total: int
    page: int
    per_page: int


def commit(session: Session) -> None:
    """Commit; a database that stays locked or drops the connection becomes DatabaseUnavailableError (503)."""
    try:
        session.commit()
    except OperationalError as exc:
        session.rollback()
        raise DatabaseUnavailableError(
            f"the database could not store the change ({str(exc.orig).strip()}); try again in a moment"
        ) from exc


def check_paging(page: int, per_page: int) -> None:
    """InvalidInputError unless 1 <= page <= MAX_PAGE and 1 <= per_page <= MAX_PER_PAGE."""
    if not 1 <= page <= MAX_PAGE:
        raise InvalidInputError(f"page must be 1..{MAX_PAGE}, got {page}")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInputError(f"per_page must be 1..{MAX_PER_PAGE}, got {per_page}")


def storable(ids: Iterable[int]) -> list[int]:
    """The ids that fit the INTEGER id columns; others cannot exist (and would overflow the driver)."""
    return [i for i in (int(x) for x in ids) if MIN_ID <= i <= MAX_ID]


def require_user(session: Session, user_id: int) -> User:
    """The user's row; UserNotFoundError if the id is unknown."""
    user = session.get(User, int(user_id)) if storable([user_id]) else None
    if user is None:
        raise UserNotFoundError(f"user {user_id} does not exist: pick one from GET /api/users or create one")
    return user


def require_movies(session: Session, movie_ids: Sequence[int]) -> dict[int, str]:
    """Titles of the ids; MovieNotFoundError listing the unknown ones."""
    titles: dict[int, str] = {}
    for chunk in chunks(storable(movie_ids)):
        titles.update(session.execute(select(Movie.movie_id, Movie.title).where(Movie.movie_id.in_(chunk))).all())
    missing = [m for m in movie_ids if int(m) not in titles]
    if missing:
        raise MovieNotFoundError(f"movie ids not in the catalogue: {missing[:10]}")
    return titles


def escape_like(text: str) -> str:
    """`text` with LIKE's wildcards escaped (escape character backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def aware(moment: datetime) -> datetime:
    """Timezone-aware UTC: SQLite returns naive datetimes (stored as UTC), psycopg the session's time zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def chunks(items: Sequence[T]) -> Iterator[list[T]]:
    """`items` in lists short enough for one IN (...) each."""
    for start in range(0, len(items), _IN_CHUNK):
        yield list(items[start : start + _IN_CHUNK])
