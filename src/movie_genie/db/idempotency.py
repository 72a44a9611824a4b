"""Idempotency keys: a client that retries a write after losing the reply gets the first answer, not a second write.

    claim = claim_key(session, "POST /api/users", key, fingerprint, ttl_s=86_400)
    "new"          -> do the write, then complete_key(...) with its answer (or release_key(...) when it failed)
    "replay"       -> answer claim.status / claim.response, write nothing
    "mismatch"     -> the key was used for another request body: refuse (409)
    "in_progress"  -> the first request with this key is still running: refuse for now (409, retry later)

The key is claimed (a row without an answer) in its own short transaction BEFORE the write, so two concurrent
requests with one key never both write: the primary key lets one insert win. A claim whose request died before
completing (a killed worker) is taken over after `lease_s`; an answer is kept until `expires_at`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from movie_genie.db.models import IdempotencyKey, utcnow

DEFAULT_TTL_S = 24 * 3600
# Longer than any request may run (gunicorn's timeout): a claim older than this belongs to a request that died.
DEFAULT_LEASE_S = 120

# Bulk statements skip matching rows in the session in Python (naive SQLite datetimes against aware ones).
_NO_SYNC = {"synchronize_session": False}

ClaimState = Literal["new", "replay", "mismatch", "in_progress"]


@dataclass(frozen=True)
class Claim:
    """What claiming a key found; `status` and `response` are the stored answer of a replay."""

    state: ClaimState
    status: int | None = None
    response: str | None = None


def claim_key(
    session: Session,
    scope: str,
    key: str,
    fingerprint: str,
    *,
    ttl_s: int = DEFAULT_TTL_S,
    lease_s: int = DEFAULT_LEASE_S,
    now: datetime | None = None,
) -> Claim:
    """Claim `key` for a request with this fingerprint (committed at once), or say why the request must not run."""
    now = now or utcnow()
    # Expired keys of every scope go first (an indexed range delete): the table holds a day of writes at most.
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at < now), execution_options=_NO_SYNC)
    # A claim: no status and no answer yet (both stay NULL until complete_key).
    row = IdempotencyKey(
        scope=scope, key=key, fingerprint=fingerprint, created_at=now, expires_at=now + timedelta(seconds=ttl_s)
    )
    session.add(row)
    try:
        session.commit()
        return Claim("new")
    except IntegrityError:
        session.rollback()
    found = session.execute(
        select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
    ).scalar_one_or_none()
    if found is None:  # completed and expired, or released, between our insert and this read: try once more
        return claim_key(session, scope, key, fingerprint, ttl_s=ttl_s, lease_s=lease_s, now=now)
    if found.fingerprint != fingerprint:
        return Claim("mismatch")
    if found.status is not None:
        return Claim("replay", found.status, found.response)
    if _aware(found.created_at) > now - timedelta(seconds=lease_s):
        return Claim("in_progress")
    # The request that claimed the key died before answering: take the claim over (only one taker wins).
    taken = session.execute(
        update(IdempotencyKey)
        .where(
            IdempotencyKey.scope == scope,
            IdempotencyKey.key == key,
            IdempotencyKey.status.is_(None),
            IdempotencyKey.created_at == found.created_at,
        )
        .values(created_at=now, expires_at=now + timedelta(seconds=ttl_s)),
        execution_options=_NO_SYNC,
    )
    session.commit()
    return Claim("new") if getattr(taken, "rowcount", 0) == 1 else Claim("in_progress")


def complete_key(session: Session, scope: str, key: str, status: int, response: str) -> None:
    """Store the answer of the write that claimed `key` (committed)."""
    session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
        .values(status=status, response=response),
        execution_options=_NO_SYNC,
    )
    session.commit()


def release_key(session: Session, scope: str, key: str) -> None:
    """Give a claim back after its write failed, so a retry runs the write again (committed)."""
    session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.scope == scope, IdempotencyKey.key == key, IdempotencyKey.status.is_(None)
        ),
        execution_options=_NO_SYNC,
    )
    session.commit()


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive UTC datetimes; PostgreSQL aware ones."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=utcnow().tzinfo)
