"""Feedback and clicks: ratings and marks given in the app, taken back, read per film, and clicks on served lists."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, model_validator

from movie_genie.api.schemas.common import IMPRESSION_ID_PATTERN, StrictId, _json_number, _Strict
from movie_genie.api.schemas.envelope import Envelope, Meta
from movie_genie.db.feedback import Mark as MovieMark  # the database's answer is the API's: one type, declared once
from movie_genie.db.models import MAX_ID, FeedbackKind


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


class FeedbackListQuery(_Strict):
    """How many of the newest feedback events to return."""

    limit: int = Field(default=100, ge=1, le=1000)


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


class Click(BaseModel):
    """A click attributed to the impression that showed the film: where it was and which ranker put it there."""

    id: int
    impression_id: str
    movie_id: int
    position: int = Field(description="1 = the first film of the list")
    team: str | None = Field(description="interleaved lists: the ranker that contributed the film")


class FeedbackResponse(Envelope[Feedback, Meta]):
    """POST /api/feedback."""


class RemovedFeedbackResponse(Envelope[RemovedFeedback, Meta]):
    """DELETE /api/feedback."""


class MovieMarkResponse(Envelope[MovieMark, Meta]):
    """GET /api/users/{user_id}/movies/{movie_id}."""


class FeedbackListResponse(Envelope[list[Feedback], Meta]):
    """GET /api/users/{user_id}/feedback."""


class ClickResponse(Envelope[Click, Meta]):
    """POST /api/impressions/{impression_id}/clicks."""
