"""Users and profiles: the picker, a profile, ratings, similar people, sign-up (cold start) and sign-in."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from movie_genie.api.schemas.common import (
    MAX_COLD_START_LIKES,
    MAX_PROFILE_KEY,
    MAX_QUERY_CHARS,
    MIN_COLD_START_LIKES,
    PageQuery,
    StrictId,
    _Strict,
)
from movie_genie.api.schemas.envelope import Envelope, Meta, PageMeta
from movie_genie.api.schemas.movies import GenreCount, MovieSummary
from movie_genie.api.schemas.recommendations import Recommendations
from movie_genie.db.taste import TraitKind
from movie_genie.models.catalogue import CATALOGUE

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
DisplayName = Annotated[str, Field(max_length=100, json_schema_extra={"pattern": f"^[^{_NAME_FORBIDDEN}]*$"})]


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


class SignInBody(_Strict):
    """A profile key, as the browser that made the profile shows it."""

    key: str = Field(
        max_length=MAX_PROFILE_KEY,
        description="the profile's secret (its key): what POST /api/users returned once, kept by the browser",
    )


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


class Trait(BaseModel):
    """A genre or tag the user likes markedly more than everyone does: `lift` times the population's share."""

    kind: TraitKind
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


# Who finds people with a similar taste: a model that can (models/catalogue.py), else their shared distinctive
# genres and tags ("taste").
TASTE = "taste"
if TYPE_CHECKING:
    SimilarUsersSource = str
else:
    SimilarUsersSource = Literal[(*CATALOGUE.able("similar_users"), TASTE)]


class SimilarUsers(BaseModel):
    """People with similar taste, and which model found them ('two_tower', else 'taste': shared distinctive
    genres/tags) with a note when it fell back."""

    user_id: int
    model: SimilarUsersSource
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
