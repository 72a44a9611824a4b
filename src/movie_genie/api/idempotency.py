"""The Idempotency-Key header of the write endpoints: a retry after a lost reply answers as the first request did.

    return idempotent("POST /api/users", header.idempotency_key, body, lambda: respond(...))

Without a key the write just runs. With one, the key is claimed in the database (db/idempotency.py), shared by
every worker; the first answer is stored and replayed (header `Idempotent-Replayed: true`), the same key with
another body is a 409, and a write that fails gives its key back so that the retry can run it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from flask import Response
from pydantic import BaseModel

from movie_genie.api.errors import ApiError
from movie_genie.api.services import services
from movie_genie.db.idempotency import claim_key, complete_key, release_key

log = logging.getLogger(__name__)

REPLAYED_HEADER = "Idempotent-Replayed"


class IdempotencyConflictError(ApiError):
    """The key belongs to another request body, or its first request is still running: 409."""

    status = 409


def idempotent(scope: str, key: str | None, body: BaseModel, write: Callable[[], Response]) -> Response:
    """Run `write` once per (scope, key, body); a repeat gets the stored answer."""
    if key is None:
        return write()
    db = services().db
    # The validated body (defaults filled in, ids de-duplicated): formatting differences are the same request.
    fingerprint = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    with db.session() as session:
        claim = claim_key(session, scope, key, fingerprint)
    if claim.state == "replay":
        replay = Response(claim.response or "", status=claim.status or 200, mimetype="application/json")
        replay.headers[REPLAYED_HEADER] = "true"
        return replay
    if claim.state == "mismatch":
        raise IdempotencyConflictError(
            f"Idempotency-Key {key!r} was already used with a different request body: use a new key for a new write",
            code="idempotency_key_reused",
        )
    if claim.state == "in_progress":
        raise IdempotencyConflictError(
            f"a request with Idempotency-Key {key!r} is still running: retry in a moment",
            code="idempotency_key_in_use",
        )
    try:
        response = write()
    except BaseException:
        _release(scope, key)
        raise
    with db.session() as session:
        complete_key(session, scope, key, response.status_code, response.get_data(as_text=True))
    return response


def _release(scope: str, key: str) -> None:
    try:
        with services().db.session() as session:
            release_key(session, scope, key)
    except Exception:  # the write's own error is the one to answer with; the claim expires after its lease
        log.warning("could not release Idempotency-Key %r of %s", key, scope, exc_info=True)
