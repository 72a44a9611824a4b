"""Response models from the database layer's records: db/ names its fields as the API does
(`rating_count`, `like_count`, ...), so a record validates into its response model without a field-by-field map."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def from_record(model: type[M], record: object, **computed: Any) -> M:
    """`model` from the attributes of `record` that it names, with the `computed` fields (cards from the catalogue,
    a profile's films, ...) given directly instead of read from the record; a field neither has keeps its default
    (a required one is a validation error)."""
    names = [name for name in model.model_fields if name not in computed and hasattr(record, name)]
    fields = {name: getattr(record, name) for name in names}
    return model.model_validate({**fields, **computed}, from_attributes=True)
