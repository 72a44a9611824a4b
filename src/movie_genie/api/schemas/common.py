"""What every schema shares: the API's bounds, the names it accepts (models, genres, search modes), the request
models' base class with its one rule for integers sent as text, and the path, paging and header models."""

from __future__ import annotations

import re
from types import UnionType
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError, model_validator
from pydantic.fields import FieldInfo
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import InitErrorDetails, PydanticCustomError

from movie_genie.db.models import MAX_ID
from movie_genie.db.queries import MAX_PER_PAGE
from movie_genie.models.catalogue import CATALOGUE, POPULARITY

MAX_K = 100
DEFAULT_K = 20
MAX_QUERY_CHARS = 200
MAX_PAGE_SIZE = MAX_PER_PAGE  # the database layer's bound: one page size limit
DEFAULT_PAGE_SIZE = 24
MAX_PAGE = 10_000
MIN_COLD_START_LIKES = 3
MAX_COLD_START_LIKES = 50
MAX_SUGGESTIONS = 20
MAX_IDEMPOTENCY_KEY = 255
MAX_PROFILE_KEY = 200  # a profile secret is 43 characters; room for one pasted with some noise, no more
IMPRESSION_ID_PATTERN = r"^[0-9a-f]{32}$"
# Ids: at most MAX_ID (db/models.py: the 32-bit id columns); larger values can only be mistakes. The feedback kinds
# (FeedbackKind) and browse orders (MovieSort) are the database layer's too.
YEAR_MIN, YEAR_MAX = 1870, 2100

# The recommenders the API serves, as the model catalogue names them (models/catalogue.py), in the order /api/health
# and /api/models list them; the type checker sees a plain string, since the catalogue decides the values.
if TYPE_CHECKING:
    ModelName = str
else:
    ModelName = Literal[CATALOGUE.listed()]
# Old spellings still accepted on input (deprecated): the API called popularity "popular" until its names became
# the catalogue's. Answers always say the current name.
DEPRECATED_MODEL_NAMES = {"popular": POPULARITY.name}
SearchMode = Literal["hybrid", "semantic", "lexical", "title"]
SimilarKind = Literal["both", "collaborative", "content"]
# Every genre a MovieLens data set uses (ml-100k and ml-1m spell it "Children's", ml-latest "Children" and adds
# IMAX). A catalogue has some of them; a genre it lacks gives an empty list, not an error.
Genre = Literal[
    "Action", "Adventure", "Animation", "Children", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "IMAX", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
]  # fmt: skip


def _json_number(value: Any) -> Any:
    """Refuse what lax validation would turn into a number: `true` is not 1 and "3" is not 3 in a JSON body (an
    integral 3.0 is the integer 3, as JSON Schema says)."""
    if isinstance(value, bool | str | bytes):
        raise ValueError(f"must be a JSON number, not {type(value).__name__}")
    return value


def _genre_spelling(value: Any) -> Any:
    """A genre in any letter case, in the spec's spelling ("comedy" -> "Comedy"); anything else as it came."""
    if isinstance(value, str):
        return _GENRES_BY_LOWER.get(value.strip().lower(), value)
    return value


def _model_spelling(value: Any) -> Any:
    """A deprecated model name as its current name ("popular" -> "popularity"); anything else as it came."""
    if isinstance(value, str):
        return DEPRECATED_MODEL_NAMES.get(value, value)
    return value


_GENRES_BY_LOWER = {g.lower(): g for g in get_args(Genre)}
# A genre parameter: the enum, matched case-insensitively (as the app's genre links always did).
GenreParam = Annotated[Genre, BeforeValidator(_genre_spelling)]
# A model parameter: the registry's names; "popular" still accepted (deprecated).
ModelParam = Annotated[ModelName, BeforeValidator(_model_spelling)]

# Ids and numbers of request bodies.
StrictId = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(_json_number)]


# JSON schemas of the request models, made once: flask-openapi3 asks for a query model's JSON schema on every
# request (to find list-valued fields), and building it costs milliseconds.
_REQUEST_SCHEMAS: dict[type[BaseModel], dict[str, Any]] = {}


# An integer sent as text (a query string, a path): ASCII digits only. int() and pydantic's lax mode also read
# "1_0", "+1", " 1" and other scripts' digits ("١٠", "１"), so one value would have many spellings, some of which
# no reader of a log or a URL takes for a number. No parameter takes a negative number, so no sign. An all-zero
# fraction ("24.0") stays accepted: JSON Schema counts 24.0 an integer (so do the spec's clients and fuzzers), as the
# request bodies do (_json_number).
_PLAIN_DIGITS = re.compile(r"[0-9]+(?:\.0+)?")
PLAIN_DIGITS_MESSAGE = (
    "must be a whole number written with the ASCII digits 0-9 only (no sign, spaces, underscores, fraction or "
    "other scripts' digits)"
)


def is_integer_field(field: FieldInfo) -> bool:
    """Whether a request field holds an integer (`int` or `int | None`; not a list of them)."""
    annotation = field.annotation
    if annotation is int:
        return True
    return get_origin(annotation) in (Union, UnionType) and int in get_args(annotation)


_INTEGER_FIELDS: dict[type[BaseModel], tuple[str, ...]] = {}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _plain_integers(cls, data: Any) -> Any:
        """Refuse an integer field's text value unless it is plain ASCII digits, naming the field (the one rule for
        every query and path integer: they all arrive as text)."""
        if not isinstance(data, dict):
            return data
        keys = _INTEGER_FIELDS.get(cls)
        if keys is None:
            keys = _INTEGER_FIELDS[cls] = tuple(
                field.alias or name for name, field in cls.model_fields.items() if is_integer_field(field)
            )
        errors: list[InitErrorDetails] = [
            {"type": PydanticCustomError("plain_digits", PLAIN_DIGITS_MESSAGE), "loc": (key,), "input": value}
            for key in keys
            if isinstance(value := data.get(key), str) and not _PLAIN_DIGITS.fullmatch(value)
        ]
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return data

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The model's JSON schema; the argument-less form (the per-request one) is computed once and shared."""
        if args or kwargs:
            return super().model_json_schema(*args, **kwargs)
        schema = _REQUEST_SCHEMAS.get(cls)
        if schema is None:
            schema = _REQUEST_SCHEMAS[cls] = super().model_json_schema()
        return schema


class UserPath(_Strict):
    """A user id in the path."""

    user_id: int = Field(ge=1, le=MAX_ID, description="MovieLens or app user id")


class MoviePath(_Strict):
    """A movie id in the path."""

    movie_id: int = Field(ge=1, le=MAX_ID, description="MovieLens movie id")


class PageQuery(_Strict):
    """Paging of a list."""

    page: int = Field(default=1, ge=1, le=MAX_PAGE, description="1-based page number")
    page_size: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


class UserMoviePath(_Strict):
    """A user id and a movie id in the path."""

    user_id: int = Field(ge=1, le=MAX_ID, description="MovieLens or app user id")
    movie_id: int = Field(ge=1, le=MAX_ID, description="MovieLens movie id")


MIN_CLIENT_TOKEN = 16  # characters: long enough that another caller cannot guess it


# Optional headers' values: printable ASCII without spaces. Absent is never `null` in the spec (SkipJsonSchema on the
# fields below), or a client generated from it sends the text "null" (schemathesis did).
HEADER_TEXT = r"^[!-~]+$"
IdempotencyKeyText = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_IDEMPOTENCY_KEY, pattern=HEADER_TEXT)
]
ClientTokenText = Annotated[
    str, StringConstraints(min_length=MIN_CLIENT_TOKEN, max_length=MAX_IDEMPOTENCY_KEY, pattern=HEADER_TEXT)
]


class IdempotencyHeader(BaseModel):
    """An optional key that makes a write safe to retry: the same key with the same body from the same caller (the
    same Authorization and Client-Token headers) answers what the first request answered (and writes nothing
    again); with another body or from another caller it is a 409."""

    model_config = ConfigDict(extra="ignore")

    idempotency_key: IdempotencyKeyText | SkipJsonSchema[None] = Field(
        default=None,
        alias="Idempotency-Key",
        description="a unique value per intended write (e.g. a UUID), kept 24 hours; printable ASCII, no spaces",
    )
    client_token: ClientTokenText | SkipJsonSchema[None] = Field(
        default=None,
        alias="Client-Token",
        description="a random value the client keeps (e.g. one UUID per browser): an Idempotency-Key replays only "
        "to the caller with the same Client-Token (and Authorization). A sign-up has no Authorization, so its key "
        "replays only with this header; without it a repeat of the key is a 409",
    )
