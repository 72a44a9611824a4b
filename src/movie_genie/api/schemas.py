"""Request and response schemas (pydantic): they validate every request and become the OpenAPI spec.

The bounds here are the API contract the web client is generated from: k <= 100 results, queries <= 200
characters, pages of at most 100 rows. Every success body is `{"data": ..., "meta": ...}`; every error body is
`{"error": {"code", "message", "details"}}`.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from types import UnionType
from typing import Annotated, Any, Generic, Literal, TypeVar, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import InitErrorDetails, PydanticCustomError

from movie_genie.db.models import MAX_ID, FeedbackKind
from movie_genie.db.repository import MovieSort
from movie_genie.evaluation.schema import EvaluationReport, ModelEntry, PairedDifference, SplitMetrics
from movie_genie.models.reasons import ReasonKind
from movie_genie.online.experiments import Design, OnlineReport

MAX_K = 100
DEFAULT_K = 20
MAX_QUERY_CHARS = 200
MAX_PAGE_SIZE = 100
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

# The recommenders the API serves, named as the model registry names them (models/registry.py MODEL_NAMES), in the
# order /api/health and /api/models list them.
ModelName = Literal["hybrid", "bert4rec", "sasrec", "two_tower", "popularity", "ease"]
# Old spellings still accepted on input (deprecated): the API called popularity "popular" until its names became
# the registry's. Answers always say "popularity".
DEPRECATED_MODEL_NAMES = {"popular": "popularity"}
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


def _half_stars(value: float) -> float:
    """A rating is 0.5 to 5 stars in half stars; anything else is refused with the allowed values."""
    if not (0.5 <= value <= 5.0 and (value * 2).is_integer()):
        raise ValueError(f"a rating is 0.5 to 5 stars in half stars (0.5, 1, 1.5, ..., 4.5, 5); got {value:g}")
    return value


# The spec states the bounds (schemathesis and the typed client read them); the validator words the refusal.
Rating = Annotated[
    float,
    Field(json_schema_extra={"minimum": 0.5, "maximum": 5.0, "multipleOf": 0.5}),
    BeforeValidator(_json_number),
    AfterValidator(_half_stars),
]
# What a display name may not contain (NAME_FORBIDDEN_CATEGORIES): control characters (Cc: C0, DEL, C1), format
# characters (Cf: the bidirectional overrides and isolates such as U+202E, which make a name display as other text,
# zero-width spaces and joiners, soft hyphens, byte-order marks), line and paragraph separators (Zl, Zp) and lone
# surrogates (Cs: \ud800 escapes in JSON, which cannot be stored as UTF-8). The spec's pattern names the Basic
# Multilingual Plane's characters of Cc, Cf, Zl and Zp (Unicode 14); the few astral format characters (U+110BD,
# U+E0001, the tag characters U+E0020-U+E007F, ...) and lone surrogates are left to the description: a pattern naming
# them makes schemathesis' generator ignore the whole pattern.
NAME_FORBIDDEN_CATEGORIES = ("Cc", "Cf", "Cs", "Zl", "Zp")
_NAME_FORBIDDEN = (
    r"\x00-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    r"\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
)
# A search query: blank (browse) or with at least one letter or digit (Python's isalnum, as the engine checks).
_QUERY_PATTERN = r"^\s*$|[^\W_]"
DisplayName = Annotated[str, Field(max_length=100, json_schema_extra={"pattern": f"^[^{_NAME_FORBIDDEN}]*$"})]


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


# --- requests --------------------------------------------------------------------------------------------------


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


class UsersQuery(PageQuery):
    """Browse users, optionally filtered by an exact id, or by words matched to names, occupations, distinctive
    genres/tags and favourite films' titles."""

    q: str | None = Field(
        default=None,
        max_length=MAX_QUERY_CHARS,
        description="a user id (matched exactly), or words such as 'dark comedy' or 'nolan thriller': each word may "
        "match a name, an occupation, a distinctive genre/tag or a favourite film's title; profiles matching more "
        "words come first",
    )


class UserRatingsQuery(PageQuery):
    """A page of a user's ratings, newest first."""


class SimilarUsersQuery(_Strict):
    """How many people with similar taste."""

    k: int = Field(default=8, ge=1, le=50)


class MoviesQuery(PageQuery):
    """Browse the catalogue by genre and year range, sorted."""

    genre: GenreParam | None = None
    year_min: int | None = Field(default=None, ge=YEAR_MIN, le=YEAR_MAX)
    year_max: int | None = Field(default=None, ge=YEAR_MIN, le=YEAR_MAX)
    sort: MovieSort = "popularity"

    @model_validator(mode="after")
    def _years_in_order(self) -> MoviesQuery:
        if self.year_min is not None and self.year_max is not None and self.year_min > self.year_max:
            raise ValueError(f"year_min ({self.year_min}) must not be after year_max ({self.year_max})")
        return self


class PopularQuery(_Strict):
    """The most-rated films, optionally in one genre."""

    k: int = Field(default=DEFAULT_K, ge=1, le=MAX_K)
    genre: GenreParam | None = None
    user_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="leave out the films this user touched")


class SimilarQuery(_Strict):
    """Films like a given one: collaborative (Two-Tower item vectors), content (text embeddings) or both."""

    k: int = Field(default=12, ge=1, le=MAX_K)
    kind: SimilarKind = "both"
    user_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="leave out the films this user touched")


class SearchQuery(_Strict):
    """Plain-language or title search with filters (an empty `q` with a filter browses); `user_id` personalises."""

    q: str = Field(
        default="",
        max_length=MAX_QUERY_CHARS,
        description="what to look for, with at least one letter or digit; empty browses, and then needs a filter",
        json_schema_extra={"pattern": _QUERY_PATTERN},
    )
    mode: SearchMode = "hybrid"
    genre: GenreParam | None = None
    year_min: int | None = Field(default=None, ge=YEAR_MIN, le=YEAR_MAX)
    year_max: int | None = Field(default=None, ge=YEAR_MIN, le=YEAR_MAX)
    min_ratings: int = Field(default=0, ge=0, le=1_000_000)
    user_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    k: int = Field(default=DEFAULT_K, ge=1, le=MAX_K)

    @model_validator(mode="after")
    def _valid(self) -> SearchQuery:
        browsing = self.genre or self.year_min is not None or self.year_max is not None or self.min_ratings > 0
        if not self.q.strip() and not browsing:
            raise ValueError("q must contain at least one non-space character, or set a filter to browse")
        if self.year_min is not None and self.year_max is not None and self.year_min > self.year_max:
            raise ValueError(f"year_min ({self.year_min}) must not be after year_max ({self.year_max})")
        return self


class SuggestQuery(_Strict):
    """Title suggestions for the search box while typing."""

    q: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    k: int = Field(default=8, ge=1, le=MAX_SUGGESTIONS)

    @field_validator("q")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value:
            raise ValueError("q must contain at least one non-space character")
        return value


class FeedbackListQuery(_Strict):
    """How many of the newest feedback events to return."""

    limit: int = Field(default=100, ge=1, le=1000)


class RecommendationsQuery(_Strict):
    """Top-k films for a user from one model (named: that model or 503; omitted: the best loaded one)."""

    user_id: int = Field(ge=1, le=MAX_ID)
    model: ModelParam | None = Field(
        default=None,
        description="omitted: the first loaded of hybrid, two_tower, ease, popularity (meta.model says which "
        "answered); 'popular' is a deprecated spelling of 'popularity'",
    )
    k: int = Field(default=DEFAULT_K, ge=1, le=MAX_K)


class UserMoviePath(_Strict):
    """A user id and a movie id in the path."""

    user_id: int = Field(ge=1, le=MAX_ID, description="MovieLens or app user id")
    movie_id: int = Field(ge=1, le=MAX_ID, description="MovieLens movie id")


class IdempotencyHeader(BaseModel):
    """An optional key that makes a write safe to retry: the same key with the same body answers what the first
    request answered (and writes nothing again); with another body it is a 409."""

    model_config = ConfigDict(extra="ignore")

    idempotency_key: str | None = Field(
        default=None,
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_IDEMPOTENCY_KEY,
        pattern=r"^[!-~]+$",
        description="a unique value per intended write (e.g. a UUID), kept 24 hours; printable ASCII, no spaces",
    )


class SignInBody(_Strict):
    """A profile key, as the browser that made the profile shows it."""

    key: str = Field(
        max_length=MAX_PROFILE_KEY,
        description="the profile's secret (its key): what POST /api/users returned once, kept by the browser",
    )


class FeedbackRemoveQuery(_Strict):
    """A mark to take back: the user's event of this kind on this film."""

    user_id: int = Field(ge=1, le=MAX_ID)
    movie_id: int = Field(ge=1, le=MAX_ID)
    kind: FeedbackKind


class FeedbackBody(_Strict):
    """One thing a user did: a rating (value 0.5..5 in half steps) or a like, dislike, watched or dismiss ("not
    interested"; value absent or null). The same mark twice is stored once."""

    user_id: StrictId
    movie_id: StrictId
    kind: FeedbackKind
    value: Rating | None = None
    impression_id: str | None = Field(
        default=None,
        pattern=IMPRESSION_ID_PATTERN,
        description="the impression (meta.impression_id) the film was shown in; omitted: the user's newest one "
        "that showed it, if any",
    )

    @model_validator(mode="after")
    def _value_matches_kind(self) -> FeedbackBody:
        if self.kind == "rating" and self.value is None:
            raise ValueError("a rating needs a value between 0.5 and 5 (half steps)")
        if self.kind != "rating" and self.value is not None:
            raise ValueError(f"'{self.kind}' takes no value; send value only with kind 'rating'")
        return self


class ImpressionPath(_Strict):
    """An impression id in the path (`meta.impression_id` of the list that showed the film)."""

    impression_id: str = Field(pattern=IMPRESSION_ID_PATTERN, description="32 lowercase hex digits")


class ClickBody(_Strict):
    """The film a user opened from a list (a click on its card)."""

    movie_id: StrictId


class ExperimentPath(_Strict):
    """An experiment's name (params.yaml `experiments`)."""

    name: str = Field(max_length=100, pattern=r"^[a-z0-9][a-z0-9_-]*$")


class ExperimentBody(_Strict):
    """A new experiment, started at run time (it joins params.yaml's); variants are model names or
    `<model>@<version>` (a retrained challenger)."""

    name: str = Field(max_length=100, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    design: Design
    variants: tuple[str, str]
    traffic: float = Field(default=1.0, gt=0.0, le=1.0)
    split: float = Field(default=0.5, gt=0.0, lt=1.0)
    horizon: int = Field(default=1000, ge=1)


class CreateUserBody(_Strict):
    """A new app user from a few films they like (cold start)."""

    liked_movie_ids: list[StrictId] = Field(
        min_length=MIN_COLD_START_LIKES,
        max_length=MAX_COLD_START_LIKES,
        description=f"at least {MIN_COLD_START_LIKES} different films (repeats count once)",
    )
    display_name: DisplayName | None = Field(
        default=None,
        description="shown in the picker; no control characters, invisible format characters (Unicode Cf, e.g. the "
        "bidirectional override U+202E), line or paragraph separators or lone surrogates (null or blank: a default "
        "name)",
    )

    @field_validator("liked_movie_ids")
    @classmethod
    def _distinct_valid_ids(cls, ids: list[int]) -> list[int]:
        distinct = list(dict.fromkeys(ids))
        if len(distinct) < MIN_COLD_START_LIKES:
            raise ValueError(f"like at least {MIN_COLD_START_LIKES} different films")
        return distinct

    @field_validator("display_name", mode="before")
    @classmethod
    def _printable(cls, name: Any) -> Any:
        # A NUL would be cut off or refused by the database; other controls (escapes, bells, line breaks) would
        # end up in every page and log line that shows the name; a right-to-left override (U+202E) or an isolate
        # makes the name, and the text after it, read as something else in the picker; zero-width characters make
        # two names look the same.
        bad = [c for c in name if unicodedata.category(c) in NAME_FORBIDDEN_CATEGORIES] if isinstance(name, str) else []
        if bad:
            shown = ", ".join(f"U+{ord(c):04X}" for c in dict.fromkeys(bad))
            raise ValueError(
                "display_name must not contain control or invisible formatting characters (such as bidirectional "
                f"overrides, zero-width characters or line separators): found {shown}; remove them and send it again"
            )
        return name


# --- responses -------------------------------------------------------------------------------------------------


class MovieSummary(BaseModel):
    """What a card shows: title, year, genres, poster (a TMDB path or null) and the data set's rating figures."""

    movie_id: int
    title: str
    year: int | None = None
    genres: list[str] = []
    poster_path: str | None = None
    rating_mean: float | None = None
    rating_count: int = 0


class MovieDetail(MovieSummary):
    """Everything known about a film; its rating figures are live (app ratings included)."""

    overview: str | None = None
    tagline: str | None = None
    keywords: list[str] = []
    cast: list[str] = []
    directors: list[str] = []
    runtime: int | None = None
    language: str | None = None
    imdb_id: str | None = None
    tmdb_id: int | None = None
    tags: list[str] = Field(default=[], description="the data set's most frequent user tags, most frequent first")


class Reason(BaseModel):
    """Why a film is shown: its kind, the film it cites (if any) and the words a person reads."""

    kind: ReasonKind
    source_movie_id: int | None = Field(default=None, description="the film of the person's history it cites")
    genre: str | None = None
    label: str = Field(description='the reason in words ("Because you liked Toy Story")')


class ScoredMovie(BaseModel):
    """A film in a ranked list with its score and, where the model gives one, the reason."""

    rank: int
    score: float
    reason: Reason | None = None
    movie: MovieSummary


class SimilarMovies(BaseModel):
    """Neighbours of a film: by who watched it (collaborative) and by what it is about (content)."""

    movie_id: int
    collaborative: list[ScoredMovie]
    content: list[ScoredMovie]
    collaborative_model: str | None = Field(
        default=None, description="the model of the collaborative list (two_tower); null when none could make it"
    )
    content_model: str | None = Field(
        default=None, description="what made the content list (content: the text embeddings); null when nothing could"
    )
    note: str | None = Field(default=None, description="why a list is empty when its model is not loaded")


class Recommendations(BaseModel):
    """A user's top-k from one model."""

    user_id: int
    model: str
    items: list[ScoredMovie]


class SearchHit(ScoredMovie):
    """A search result; `matched_by` names the retrievers that found it (semantic, lexical, title, personal)."""

    matched_by: list[str] = []


class SearchResults(BaseModel):
    """Ranked search results."""

    query: str
    mode: str
    personalized: bool
    items: list[SearchHit]
    did_you_mean: str | None = Field(default=None, description="the corrected query the results used, if any")
    no_close_match: bool = Field(
        default=False,
        description="nothing in the catalogue is close to the query (gibberish, a film it does not have): items is "
        "empty; false when filters alone left nothing",
    )


class Suggestion(BaseModel):
    """A title suggestion for the search box."""

    movie_id: int
    title: str
    year: int | None = None
    score: float


class GenreCount(BaseModel):
    """A genre and how many films have it."""

    genre: str
    count: int


class Trait(BaseModel):
    """A genre or tag the user likes markedly more than everyone does: `lift` times the population's share."""

    kind: Literal["genre", "tag"]
    name: str
    count: int = Field(description="the user's liked films carrying it")
    lift: float = Field(description="the user's (smoothed) share over the population's; 2.0 = twice as much")


class UserSummary(BaseModel):
    """A user in the picker: what is distinctive in their taste, their favourite films and their activity. A profile
    created in the app shows these to its owner (and the admin token) only: to anyone else it is `private`, with
    its id, name and source and nothing else (every list empty, every count 0, every date of activity null)."""

    user_id: int
    display_name: str
    source: str = Field(description="'movielens' (from the data set) or 'app' (created here)")
    private: bool = Field(
        default=False,
        description="true: a profile created in the app, seen by someone other than its owner; only its id, name "
        "and source are shown (the counts, taste, favourites and activity are hidden, not zero)",
    )
    rating_count: int = 0
    top_genres: list[str] = Field(default=[], description="their most rated genres (common to most users)")
    taste: list[Trait] = Field(default=[], description="distinctive genres, then tags, highest lift first")
    favourites: list[MovieSummary] = Field(default=[], description="their highest-rated films, best first")
    first_rated_at: datetime | None = None
    last_rated_at: datetime | None = None


class HistoryItem(BaseModel):
    """One interaction in a user's history, newest first."""

    movie: MovieSummary
    kind: str
    value: float | None = None
    at: datetime
    source: str = Field(description="'dataset' (a MovieLens rating) or 'app' (feedback given here)")


class UserDetail(UserSummary):
    """A user's profile: counts by kind, demographics where known, genres of the recent history."""

    age: int | None = None
    gender: str | None = None
    occupation: str | None = None
    created_at: datetime
    like_count: int = 0
    dislike_count: int = 0
    watched_count: int = 0
    recent_genres: list[GenreCount] = []
    recent: list[HistoryItem] = []


class UserRating(BaseModel):
    """A film the user rated and their rating of it."""

    movie: MovieSummary
    rating: float
    at: datetime
    source: str = Field(description="'dataset' (a MovieLens rating) or 'app' (given here)")


class SignedIn(BaseModel):
    """The app profile a key belongs to: send the key as `Authorization: Bearer <key>` to act as it."""

    user_id: int
    display_name: str


class DeletedUser(BaseModel):
    """A profile deleted with everything it left: its marks, impressions and stored answers."""

    user_id: int
    deleted: bool = True


class SimilarUser(BaseModel):
    """A person with similar taste and how close (cosine for Two-Tower, shared traits for 'taste')."""

    score: float
    user: UserSummary


class SimilarUsers(BaseModel):
    """People with similar taste, and which model found them ('two_tower', else 'taste': shared distinctive
    genres/tags) with a note when it fell back."""

    user_id: int
    model: Literal["two_tower", "taste"]
    note: str | None = None
    items: list[SimilarUser]


class NewUser(BaseModel):
    """The user just created, their first recommendations and the profile's secret (null in a replay of the same
    Idempotency-Key: the secret went to the first request only, and `secret_note` says so)."""

    user: UserDetail
    recommendations: Recommendations
    secret: str | None = Field(
        description="the profile's bearer secret, shown only in the first answer (the server keeps a hash): send it "
        "as `Authorization: Bearer <secret>` to rate as this profile and to read its feedback; null when this "
        "answer replays an earlier request's (Idempotency-Key), since a secret is never given twice"
    )
    secret_note: str | None = Field(
        default=None, description="why `secret` is null, in words for people (a replayed sign-up); null otherwise"
    )


class Feedback(BaseModel):
    """A stored feedback event."""

    id: int
    user_id: int
    movie_id: int
    title: str
    kind: str
    value: float | None = None
    created_at: datetime


class RemovedFeedback(BaseModel):
    """A mark taken back: how many events were deleted (0 when the mark was not set)."""

    user_id: int
    movie_id: int
    kind: str
    removed: int


class MovieMark(BaseModel):
    """What one user did with one film, from their whole history: their rating (the latest app rating, else the
    data set's) and their marks."""

    movie_id: int
    rating: float | None = None
    rating_source: Literal["dataset", "app"] | None = None
    liked: bool = False
    disliked: bool = False
    watched: bool = False
    dismissed: bool = False


class HomeItem(BaseModel):
    """A card of a home row: the film, why it is there (recommendation rows) or what the user did (history)."""

    movie: MovieSummary
    reason: Reason | None = None
    note: str | None = None


class HomeRow(BaseModel):
    """One row of the home page: what it is for and the model that made it (after any fallback)."""

    id: str = Field(description="stable row id: for-you, up-next, because-liked, your-genres, popular, recent")
    title: str
    purpose: str = Field(description="what the row is for, in a sentence")
    model: str | None = Field(description="the model that made the row (API name, or 'content'); null: history")
    requested_model: str | None = Field(default=None, description="the model the row asks for first")
    history: bool = Field(default=False, description="the user's own films (the only row that shows them)")
    items: list[HomeItem]


class HomePage(BaseModel):
    """A user's home page: rows in priority order; no film twice, none the user touched (history row aside)."""

    user_id: int
    excluded: int = Field(description="how many films the user touched (left out of every row but history)")
    rows: list[HomeRow]


class Click(BaseModel):
    """A click attributed to the impression that showed the film: where it was and which ranker put it there."""

    id: int
    impression_id: str
    movie_id: int
    position: int = Field(description="1 = the first film of the list")
    team: str | None = Field(description="interleaved lists: the ranker that contributed the film")


class ModelVersionInfo(BaseModel):
    """One retrained version of a model (`movie-genie retrain`) and its offline figures on that version's split."""

    version: str
    created_at: datetime
    serving: bool
    test: SplitMetrics
    vs_current: PairedDifference | None = Field(
        default=None, description="its test NDCG@10 minus the version that served when it was made (same users)"
    )


class ModelInfo(BaseModel):
    """A loaded model: its version, its evaluation figures (test split) from the report, its retrained versions and
    the experiments it takes part in."""

    name: str
    api_name: str = Field(description="the `model` value of GET /api/recommendations (the same as `name`)")
    version: str | None = Field(default=None, description="short content hash of the checkpoint being served")
    release: str | None = Field(
        default=None, description="the version served: 'base' (the pipeline's) or a retrain's id; null: not loaded"
    )
    loaded: bool
    evaluation: ModelEntry | None = Field(
        default=None, description="its entry of the evaluation report (the base version), if any"
    )
    versions: list[ModelVersionInfo] = Field(default_factory=list, description="retrained versions, newest first")
    experiments: list[str] = Field(default_factory=list, description="experiments with this model as a variant")


class ModelsInfo(BaseModel):
    """Every model, the evaluation report (None until `movie-genie evaluate` has run) and every experiment's online
    report."""

    models: list[ModelInfo]
    report: EvaluationReport | None = None
    experiments: list[OnlineReport] = Field(default_factory=list)
    reload_error: str | None = Field(default=None, description="why the last hot reload failed (old models serve)")


class Check(BaseModel):
    """One dependency's state."""

    ok: bool
    detail: str | None = None


class Capability(BaseModel):
    """One thing the app does (recommendations, similar films, search, the database) and what serves it now."""

    ok: bool = Field(description="something serves it (its first choice or a fallback)")
    served_by: str | None = Field(description="the model, retriever or database that serves it; null when none does")
    missing: list[str] = Field(default_factory=list, description="what it would use but is not loaded")
    detail: str = Field(description="what serves it and what is missing, in plain words")


class Health(BaseModel):
    """Readiness: "ready" (200) while every capability has something serving it, along its fallback chain;
    "not_ready" (503) when one has nothing. `degraded` says a dependency is down although every capability is
    served; `checks` has each dependency: the database, each model, the search index, the cache. Liveness is
    GET /api/ping."""

    status: Literal["ready", "not_ready"]
    degraded: bool = Field(description="a dependency is down (see checks) although every capability may be served")
    capabilities: dict[str, Capability] = Field(
        description="recommendations, similar_films, search and database: what serves each"
    )
    checks: dict[str, Check]


class CatalogueInfo(BaseModel):
    """How much of the catalogue has metadata: with none, films have no plot summaries, posters or cast."""

    movies: int
    with_overview: int = Field(description="films with a plot summary; 0 = no metadata (set TMDB_API_KEY and rerun)")
    with_poster: int = Field(description="films with a poster")


class AccessInfo(BaseModel):
    """Who may write as which profile on this server (api/ownership.py)."""

    demo_mode: bool = Field(description="local demo mode: anyone may rate as any MovieLens user")
    notice: str | None = Field(description="what the app shows while in demo mode; null outside it")
    admin: bool = Field(description="the request carries the admin token (may write as any profile)")


class Ping(BaseModel):
    """Liveness: the process answers."""

    status: Literal["ok"] = "ok"


# --- envelopes -------------------------------------------------------------------------------------------------


class Meta(BaseModel):
    """What every response's meta carries."""

    took_ms: float = Field(description="server time spent on this request")


class PageMeta(Meta):
    """Paging of a list response."""

    page: int
    page_size: int
    total: int


class CachedMeta(Meta):
    """Whether the answer came from the cache."""

    cached: bool = False


class RecommendationMeta(CachedMeta):
    """Which model answered, with which version, from how much history."""

    model: str = Field(description="the model that answered (after any fallback)")
    requested_model: str | None = Field(
        default=None, description="the model asked for first when none was named; differs from `model` after a fallback"
    )
    model_version: str | None = None
    k: int
    history_size: int
    impression_id: str | None = Field(
        default=None, description="this list's impression: send it with a click or a mark (null: logging off)"
    )
    experiment: str | None = Field(default=None, description="the experiment that chose the list, if any")
    variant: str | None = Field(default=None, description="the user's variant in that experiment")


class ListsMeta(CachedMeta):
    """A response of several lists, each logged as an impression for the user it was shown to."""

    impression_ids: dict[str, str] = Field(
        default={}, description="list id -> its impression: send it with a click or a mark (none: not logged)"
    )


class HomeMeta(ListsMeta):
    """The home page's meta: each recommendation row's impression (row id -> impression; the history row has
    none)."""


class SearchMeta(CachedMeta):
    """A search answer's meta: its impression when a user asked (`user_id`)."""

    impression_id: str | None = Field(
        default=None, description="the results' impression: send it with a click or a mark (null: no user, or off)"
    )


DataT = TypeVar("DataT")
MetaT = TypeVar("MetaT", bound=Meta)


class Envelope(BaseModel, Generic[DataT, MetaT]):
    """`{"data": ..., "meta": ...}`."""

    data: DataT
    meta: MetaT


class ErrorBody(BaseModel):
    """What went wrong: a stable code, a message for people, and details (e.g. the invalid fields)."""

    code: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    """`{"error": {...}}`: the body of every 4xx/5xx response."""

    error: ErrorBody


class PingResponse(Envelope[Ping, Meta]):
    """GET /api/ping."""


class AccessResponse(Envelope[AccessInfo, Meta]):
    """GET /api/access."""


class HealthResponse(Envelope[Health, Meta]):
    """GET /api/health."""


class UsersResponse(Envelope[list[UserSummary], PageMeta]):
    """GET /api/users."""


class UserRatingsResponse(Envelope[list[UserRating], PageMeta]):
    """A page of the user's ratings."""


class SimilarUsersResponse(Envelope[SimilarUsers, Meta]):
    """People with similar taste."""


class UserResponse(Envelope[UserDetail, Meta]):
    """GET /api/users/{user_id}."""


class DeletedUserResponse(Envelope[DeletedUser, Meta]):
    """DELETE /api/users/{user_id}."""


class SignInResponse(Envelope[SignedIn, Meta]):
    """POST /api/sign-in."""


# GET /api/users/{user_id}/ratings.csv: not JSON, so an OpenAPI response object rather than a model.
RATINGS_CSV_RESPONSE: dict[str, Any] = {
    "description": "the user's ratings as a MovieLens ratings.csv (header userId,movieId,rating,timestamp), sent as "
    "a download",
    "content": {"text/csv": {"schema": {"type": "string"}}},
    "headers": {
        "Content-Disposition": {
            "description": 'attachment; filename="movie-genie-ratings-<user_id>.csv"',
            "schema": {"type": "string"},
        }
    },
}


class NewUserResponse(Envelope[NewUser, Meta]):
    """POST /api/users."""


class MoviesResponse(Envelope[list[MovieSummary], PageMeta]):
    """GET /api/movies."""


class MovieListResponse(Envelope[list[MovieSummary], Meta]):
    """GET /api/movies/popular."""


class MovieResponse(Envelope[MovieDetail, Meta]):
    """GET /api/movies/{movie_id}."""


class SimilarResponse(Envelope[SimilarMovies, ListsMeta]):
    """GET /api/movies/{movie_id}/similar."""


class GenresResponse(Envelope[list[GenreCount], Meta]):
    """GET /api/genres."""


class SearchResponse(Envelope[SearchResults, SearchMeta]):
    """GET /api/search."""


class SuggestResponse(Envelope[list[Suggestion], Meta]):
    """GET /api/search/suggest."""


class RecommendationsResponse(Envelope[Recommendations, RecommendationMeta]):
    """GET /api/recommendations."""


class FeedbackResponse(Envelope[Feedback, Meta]):
    """POST /api/feedback."""


class RemovedFeedbackResponse(Envelope[RemovedFeedback, Meta]):
    """DELETE /api/feedback."""


class MovieMarkResponse(Envelope[MovieMark, Meta]):
    """GET /api/users/{user_id}/movies/{movie_id}."""


class HomeResponse(Envelope[HomePage, HomeMeta]):
    """GET /api/users/{user_id}/home."""


class FeedbackListResponse(Envelope[list[Feedback], Meta]):
    """GET /api/users/{user_id}/feedback."""


class ModelsResponse(Envelope[ModelsInfo, Meta]):
    """GET /api/models."""


class CatalogueResponse(Envelope[CatalogueInfo, Meta]):
    """GET /api/catalogue."""


class ClickResponse(Envelope[Click, Meta]):
    """POST /api/impressions/{impression_id}/clicks."""


class OnlineReportResponse(Envelope[OnlineReport, Meta]):
    """GET /api/experiments/{name}/report."""


class OnlineReportsResponse(Envelope[list[OnlineReport], Meta]):
    """GET /api/experiments."""
