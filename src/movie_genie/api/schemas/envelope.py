"""The envelopes: every success body is `{"data": ..., "meta": ...}` with a meta of its kind; every error body is
`{"error": {"code", "message", "details"}}`."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field


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


class ListsMeta(CachedMeta):
    """A response of several lists, each logged as an impression for the user it was shown to."""

    impression_ids: dict[str, str] = Field(
        default={}, description="list id -> its impression: send it with a click or a mark (none: not logged)"
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
