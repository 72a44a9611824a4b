"""Idempotency keys on both backends: claim, replay, mismatch, in-progress, release, expiry and a dead claim."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.orm import Session

from movie_genie.db.idempotency import claim_key, complete_key, release_key
from movie_genie.db.models import utcnow

SCOPE = "POST /api/test"


def _key() -> str:
    return uuid.uuid4().hex


def test_a_completed_key_replays_its_answer(session: Session) -> None:
    key = _key()
    assert claim_key(session, SCOPE, key, "body-a").state == "new"
    complete_key(session, SCOPE, key, 201, '{"data": 1}')
    replay = claim_key(session, SCOPE, key, "body-a")
    assert (replay.state, replay.status, replay.response) == ("replay", 201, '{"data": 1}')


def test_another_body_or_a_running_first_request_is_refused(session: Session) -> None:
    key = _key()
    assert claim_key(session, SCOPE, key, "body-a").state == "new"
    assert claim_key(session, SCOPE, key, "body-a").state == "in_progress"
    assert claim_key(session, SCOPE, key, "body-b").state == "mismatch"
    # Scopes are separate: the same key on another endpoint is another key.
    assert claim_key(session, "POST /api/other", key, "body-b").state == "new"


def test_a_released_key_can_run_again(session: Session) -> None:
    key = _key()
    assert claim_key(session, SCOPE, key, "body-a").state == "new"
    release_key(session, SCOPE, key)
    assert claim_key(session, SCOPE, key, "body-b").state == "new"


def test_an_expired_key_is_new_again(session: Session) -> None:
    key = _key()
    past = utcnow() - timedelta(days=2)
    assert claim_key(session, SCOPE, key, "body-a", now=past).state == "new"
    complete_key(session, SCOPE, key, 201, "{}")
    assert claim_key(session, SCOPE, key, "body-b").state == "new"


def test_a_claim_whose_request_died_is_taken_over_after_the_lease(session: Session) -> None:
    key = _key()
    start = utcnow()
    assert claim_key(session, SCOPE, key, "body-a", now=start).state == "new"
    assert claim_key(session, SCOPE, key, "body-a", now=start + timedelta(seconds=10)).state == "in_progress"
    assert claim_key(session, SCOPE, key, "body-a", now=start + timedelta(seconds=600)).state == "new"
