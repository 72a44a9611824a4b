"""The Idempotency-Key header of the write endpoints: a retry after a lost reply answers as the first request did.

    return idempotent("POST /api/users", header, body, lambda: respond(...), replay_needs_caller=True)

Without a key the write just runs. With one, the key is claimed in the database (db/idempotency.py), shared by
every worker; the first answer is stored and replayed (header `Idempotent-Replayed: true`), the same key with
another body is a 409, and a write that fails gives its key back so that the retry can run it.

A key is bound to its caller: the fingerprint hashes the body together with the Authorization and Client-Token
headers, so someone who learns another client's key (and body) gets a 409, never the stored answer. A write that
has no caller of its own (a sign-up) replays only to a Client-Token: without one, a repeat of its key is a 409.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable

from flask import Response, request
from pydantic import BaseModel

from movie_genie.api.errors import ApiError
from movie_genie.api.schemas import IdempotencyHeader
from movie_genie.api.services import services
from movie_genie.db.idempotency import claim_key, complete_key, release_key

log = logging.getLogger(__name__)

REPLAYED_HEADER = "Idempotent-Replayed"


class IdempotencyConflictError(ApiError):
    """The key belongs to another request body, or its first request is still running: 409."""

    status = 409


def idempotent(
    scope: str,
    header: IdempotencyHeader,
    body: BaseModel,
    write: Callable[[], Response],
    *,
    replay_needs_caller: bool = False,
) -> Response:
    """Run `write` once per (scope, key, body, caller); a repeat from the same caller gets the stored answer. With
    `replay_needs_caller`, a request without a Client-Token is never a replay (its repeat is a 409)."""
    key = header.idempotency_key
    if key is None:
        return write()
    db = services().db
    # The validated body (defaults filled in, ids de-duplicated): formatting differences are the same request.
    caller = f"{request.headers.get('Authorization', '')}\n{header.client_token or ''}"
    if replay_needs_caller and header.client_token is None:
        caller += secrets.token_hex(16)  # no caller to recognise: no later request can match this one
    fingerprint = hashlib.sha256(f"{body.model_dump_json()}\n{caller}".encode()).hexdigest()
    with db.session() as session:
        claim = claim_key(session, scope, key, fingerprint)
    if claim.state == "replay":
        replay = Response(claim.response or "", status=claim.status or 200, mimetype="application/json")
        replay.headers[REPLAYED_HEADER] = "true"
        return replay
    if claim.state == "mismatch":
        if replay_needs_caller:
            why = (
                f"Idempotency-Key {key!r} was already used: it replays only to the caller that first sent it, with "
                "the same Client-Token header and body (send a Client-Token with the key to make retries safe)"
            )
        else:
            why = (
                f"Idempotency-Key {key!r} was already used with a different request body or by another caller "
                "(another Authorization or Client-Token)"
            )
        raise IdempotencyConflictError(f"{why}: use a new key for a new write", code="idempotency_key_reused")
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
