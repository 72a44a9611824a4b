"""The success envelope `{"data": ..., "meta": {...}}`, written straight from pydantic's JSON serialiser.

Data may arrive as a model, a list of models, or bytes already serialised (a cache hit), so cached answers are
never parsed and re-encoded.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from flask import Response, g
from pydantic import BaseModel


def to_json_bytes(data: BaseModel | Sequence[BaseModel]) -> bytes:
    """Serialise a model or a list of models to JSON bytes."""
    if isinstance(data, BaseModel):
        return data.model_dump_json().encode()
    return b"[" + b",".join(item.model_dump_json().encode() for item in data) + b"]"


def elapsed_ms() -> float:
    """Milliseconds since the request started (0 outside a timed request)."""
    start = g.get("metrics_start")
    return round((time.perf_counter() - start) * 1000, 3) if start is not None else 0.0


def respond(data: BaseModel | Sequence[BaseModel] | bytes, status: int = 200, **meta: Any) -> Response:
    """Wrap data in the envelope; `meta` gets `took_ms` added."""
    body = data if isinstance(data, bytes) else to_json_bytes(data)
    meta_bytes = json.dumps({**meta, "took_ms": elapsed_ms()}, separators=(",", ":")).encode()
    return Response(b'{"data":' + body + b',"meta":' + meta_bytes + b"}", status=status, mimetype="application/json")
