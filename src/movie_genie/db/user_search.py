"""The user picker's search: which profiles a query matches, and in which order (best match first).

A bare number matches that user id exactly (first) and the names people gave app users, never every id containing
its digits.

A query is split into words ("dark comedy", "nolan thriller"). A word matches a profile when it is part of its
name, part of its occupation, the start of a word of one of its distinctive genres or tags (`users.taste_terms`,
most distinctive first: "noir" finds Film-Noir, "nolan" the tag "christopher nolan") or the start of a word of one
of its favourite films' titles (`users.favourite_movie_ids` -> movies.title); a profile created in the app is
matched by its name (and id) only, since its taste is its owner's. A profile matches when any word does, and
profiles are ordered by

1. how many of the words they match (more first),
2. whether a word matches their name,
3. how distinctive the best matching taste term is for them (its rank in `taste_terms`, the first best),
4. id.

Everything happens in SQL (SQLite and PostgreSQL), so the count and the paging are the database's. Small words
("the", "of", ...) are left out of a query that has other words: they would match half the titles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, case, exists, false, func, literal, or_, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import JSONB

from movie_genie.db.models import MAX_ID, MIN_ID, Movie, User
from movie_genie.db.queries import escape_like

MAX_WORDS = 8  # words of a query that count (the API allows 200 characters)
STOP_WORDS = frozenset({"a", "an", "and", "at", "by", "for", "in", "is", "of", "on", "or", "the", "to", "with"})
# What may precede a word inside a taste term ('|' opens every term) and inside a title.
_TERM_BOUNDARIES = ("|", " ", "-")
_TITLE_BOUNDARIES = (" ", "(", "-")
# Beyond any position in taste_terms: "no taste term matched".
_NO_POSITION = 1_000_000
_PUNCTUATION = ".,;:!?\"'()[]{}"


@dataclass(frozen=True)
class WordSearch:
    """A word query as SQL: the filter (any word matches) and the order (best match first)."""

    where: ColumnElement[bool]
    order: list[Any]


def words(query: str) -> list[str]:
    """The query's words, lower-cased, once each, without surrounding punctuation, small words left out when
    others remain; at most MAX_WORDS."""
    found: list[str] = []
    for token in query.lower().split():
        word = token.strip(_PUNCTUATION) or token
        if word not in found:
            found.append(word)
    meaningful = [w for w in found if w not in STOP_WORDS]
    return (meaningful or found)[:MAX_WORDS]


def search(dialect: str, query: str) -> WordSearch:
    """The filter and order of a user list query on `dialect`. A number matches that user id exactly (first) and the
    names people gave app users, never every id containing its digits; words are `word_search`'s."""
    q = " ".join(query.split())
    if not (q.isascii() and q.isdigit()):  # not '³' or '①': str.isdigit accepts them, int() does not
        return word_search(dialect, q)
    # MovieLens users are named "MovieLens user N": matching digits in names would match ids by substring.
    named = User.display_name.ilike("%" + escape_like(q) + "%", escape="\\")
    conditions: list[ColumnElement[bool]] = [(User.source == "app") & named]
    exact: ColumnElement[bool] = literal(False)
    if len(q) < 10 and MIN_ID <= int(q) <= MAX_ID:
        exact = User.user_id == int(q)
        conditions.append(exact)
    return WordSearch(or_(*conditions), [case((exact, 0), else_=1), User.user_id])


def word_search(dialect: str, query: str) -> WordSearch:
    """The filter and order of a query of words (not a bare id: `search` keeps the exact-id rule) on `dialect`."""
    matches = [_word_match(dialect, w) for w in words(query)]
    if not matches:
        return WordSearch(false(), [User.user_id])
    score: ColumnElement[int] = literal(0)
    for match in matches:
        score = score + case((match.any, 1), else_=0)
    named = or_(*(m.name for m in matches))
    position = _smallest(dialect, [m.position for m in matches])
    order = [score.desc(), case((named, 0), else_=1), position, User.user_id]
    return WordSearch(or_(*(m.any for m in matches)), order)


@dataclass(frozen=True)
class _Match:
    any: ColumnElement[bool]  # the word matches the profile somewhere
    name: ColumnElement[bool]  # ... in its name
    position: ColumnElement[int]  # rank of the word's first matching taste term (_NO_POSITION: none)


def _word_match(dialect: str, word: str) -> _Match:
    pattern = escape_like(word)
    name: ColumnElement[bool] = User.display_name.ilike(f"%{pattern}%", escape="\\")
    conditions: list[ColumnElement[bool]] = []
    if word.isascii() and word.isdigit():
        # MovieLens users are named "MovieLens user N": digits match an id exactly and the names people gave.
        name = (User.source == "app") & name
        if len(word) < 10 and MIN_ID <= int(word) <= MAX_ID:
            conditions.append(User.user_id == int(word))
    # A profile created in the app is found by its name (and id) only: its taste and favourites are its owner's,
    # and a match on them would tell anyone what it likes (api/ownership.py). MovieLens profiles are public data.
    public = User.source != "app"
    in_taste = [User.taste_terms.like(f"%{b}{pattern}%", escape="\\") for b in _TERM_BOUNDARIES]
    positions: list[ColumnElement[int]] = [
        case((public & (found > 0), _term_number(User.taste_terms, found)), else_=_NO_POSITION)
        for found in (_position(dialect, User.taste_terms, b + word) for b in _TERM_BOUNDARIES)
    ]
    described = or_(
        User.occupation.ilike(f"%{pattern}%", escape="\\"), *in_taste, _in_favourite_title(dialect, pattern)
    )
    conditions += [name, public & described]
    return _Match(or_(*conditions), name, _smallest(dialect, positions))


def _in_favourite_title(dialect: str, pattern: str) -> ColumnElement[bool]:
    """Whether a word of one of the profile's favourite films' titles starts with the (escaped) word."""
    titled = or_(
        Movie.title.ilike(f"{pattern}%", escape="\\"),
        *(Movie.title.ilike(f"%{b}{pattern}%", escape="\\") for b in _TITLE_BOUNDARIES),
    )
    if dialect == "postgresql":
        # A JSON null (a profile without favourites) is no array: jsonb_array_elements would refuse it.
        column = User.favourite_movie_ids
        array = case((func.jsonb_typeof(column) == "array", column), else_=sql_cast(literal("[]"), JSONB()))
        favourites = func.jsonb_array_elements_text(array).table_valued("value").alias("favourite")
        movie_id: ColumnElement[Any] = sql_cast(favourites.c.value, Integer)
    else:
        favourites = func.json_each(User.favourite_movie_ids).table_valued("value").alias("favourite")
        movie_id = favourites.c.value
    return exists(select(literal(1)).select_from(favourites).join(Movie, and_(Movie.movie_id == movie_id, titled)))


def _smallest(dialect: str, values: list[ColumnElement[int]]) -> ColumnElement[int]:
    """The smallest of several values of one row: least() on PostgreSQL, SQLite's scalar min() with 2+ arguments."""
    if len(values) == 1:
        return values[0]
    return func.least(*values) if dialect == "postgresql" else func.min(*values)


def _term_number(terms: Any, position: ColumnElement[int]) -> ColumnElement[int]:
    """Which term of '|a|b|c|' the character at `position` belongs to (1 = the first, the most distinctive): the
    number of '|' up to it."""
    head = func.substr(terms, 1, position)
    return func.length(head) - func.length(func.replace(head, "|", ""))


def _position(dialect: str, column: Any, needle: str) -> ColumnElement[int]:
    """Where `needle` starts in `column` (1-based, 0 if absent): strpos on PostgreSQL, instr elsewhere."""
    return func.strpos(column, needle) if dialect == "postgresql" else func.instr(column, needle)
