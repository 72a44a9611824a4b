"""Who may write as a profile and read its private data: the one rule, which the routes apply (README.md, "Demo
mode and profile secrets", says it for people).

- A profile created in the app belongs to whoever holds its secret, sent as `Authorization: Bearer <secret>`. The
  secret is returned once, by POST /api/users; the database keeps only its SHA-256.
- The MovieLens profiles are demo profiles: anyone may write as them in local demo mode (`Settings.demo_mode`, the
  default of `make run` on loopback, off under MOVIE_GENIE_ENV=production); otherwise they are read-only. App
  profiles created before profiles had secrets are treated the same way.
- The admin token (MOVIE_GENIE_ADMIN_TOKEN) may write as, and read, any profile.
- Reads: a MovieLens profile's history is the public data set's; an app profile's feedback is its owner's, and so
  are its counts, taste, favourites and activity: anyone else sees only that it exists (its id and name), in the
  profile (GET /api/users/{id}) and in the picker's list (readable_profiles).
- A secret is handed over once, by the request that created the profile; a replay of its Idempotency-Key gets none.

    require_owner(body.user_id)               # a write: raises 401/403 with what to do
    require_owner(path.user_id, read=True)    # a private read
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, request
from flask_openapi3.types import ResponseDict

from movie_genie.api.errors import ApiError, error_response
from movie_genie.api.idempotency import REPLAYED_HEADER
from movie_genie.api.schemas import ErrorResponse, UserSummary
from movie_genie.api.services import services
from movie_genie.config import Settings
from movie_genie.db.profiles import user_owner

EXTENSION_KEY = "movie_genie.access"
DEMO_NOTICE = "demo mode: anyone on this machine can rate as any MovieLens user"

# In the OpenAPI spec: the bearer secret, and the operations that check it (optional: demo profiles need none).
SECURITY_SCHEMES: dict[str, Any] = {
    "profileSecret": {
        "type": "http",
        "scheme": "bearer",
        "description": "a profile's secret from POST /api/users (or the admin token, MOVIE_GENIE_ADMIN_TOKEN)",
    }
}
OWNER_SECURITY: list[dict[str, list[Any]]] = [{"profileSecret": []}, {}]
# In the spec, the errors of a route that acts for a profile: require_owner's 401 and 403, and the 404 of a profile
# (or of what the route names) that does not exist.
OWNER_ERRORS: ResponseDict = {401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse}
# Operator actions (starting an experiment) take the admin token only.
ADMIN_SECURITY: list[dict[str, list[Any]]] = [{"profileSecret": []}]


class MissingSecretError(ApiError, status=401, code="unauthorized"):
    """The profile has an owner and the request did not say who it is (answered with WWW-Authenticate: Bearer)."""


class NotOwnerError(ApiError, status=403, code="forbidden"):
    """The request may not act as this profile."""


@dataclass(frozen=True)
class Access:
    """What the rule needs from the settings (kept on the app, read per request)."""

    demo_mode: bool
    admin_token_hash: str | None


def new_secret() -> tuple[str, str]:
    """A fresh profile secret and the hash to store (256 random bits: a fast hash is enough)."""
    secret = secrets.token_urlsafe(32)
    return secret, hash_secret(secret)


def hash_secret(secret: str) -> str:
    """The SHA-256 (hex) the database keeps instead of the secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _access() -> Access:
    access = current_app.extensions[EXTENSION_KEY]
    assert isinstance(access, Access)
    return access


def demo_mode() -> bool:
    """Whether this server runs in local demo mode (MovieLens profiles writable by anyone)."""
    return _access().demo_mode


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _matches(token: str | None, digest: str | None) -> bool:
    return token is not None and digest is not None and hmac.compare_digest(hash_secret(token), digest)


def is_admin() -> bool:
    """Whether the request carries the admin token."""
    return _matches(_bearer(), _access().admin_token_hash)


def require_admin(action: str) -> None:
    """Let the request through only with the admin token: 401 without a bearer token, 403 with another one."""
    if _access().admin_token_hash is None:
        raise NotOwnerError(
            f"{action} needs the admin token, and this server has none: set MOVIE_GENIE_ADMIN_TOKEN and restart",
            code="admin_required",
        )
    token = _bearer()
    if token is None:
        raise MissingSecretError(
            f"{action} needs the admin token: send 'Authorization: Bearer <MOVIE_GENIE_ADMIN_TOKEN>'",
            code="admin_required",
        )
    if not _matches(token, _access().admin_token_hash):
        raise NotOwnerError(f"{action} needs the admin token; the bearer token sent is not it", code="not_admin")


def require_owner(user_id: int, *, read: bool = False) -> None:
    """Let the request through when it may write as (or, with `read`, read the private data of) `user_id`;
    raise MissingSecretError (401) or NotOwnerError (403) saying what to do otherwise. An unknown user passes,
    so that the route answers its usual 404."""
    access = _access()
    token = _bearer()
    if _matches(token, access.admin_token_hash):
        return
    with services().db.session() as session:
        owner = user_owner(session, user_id)
    if owner is None:
        return
    _source, secret_hash = owner
    if secret_hash is None:
        # A MovieLens (demo) profile, or an app profile from before secrets: public history, demo-mode writes.
        if read or access.demo_mode:
            return
        raise NotOwnerError(
            f"user {user_id} is a read-only demo profile on this server (demo mode is off): create your own "
            "profile (POST /api/users, or 'Start fresh' in the app) and rate as that profile",
            code="demo_profile_read_only",
        )
    if token is None:
        raise MissingSecretError(
            f"user {user_id} is a private profile: send 'Authorization: Bearer <secret>' with the secret that "
            "POST /api/users returned when the profile was created",
            code="secret_required",
        )
    if not _matches(token, secret_hash):
        raise NotOwnerError(
            f"the bearer secret is not user {user_id}'s: send the secret returned when this profile was created "
            "(each profile has its own)",
            code="not_owner",
        )


def may_read(user_id: int) -> bool:
    """Whether the request may read `user_id`'s private data (require_owner(read=True) without raising)."""
    try:
        require_owner(user_id, read=True)
    except ApiError:
        return False
    return True


# What a replayed sign-up says instead of a secret (the Idempotency-Key's first request got it).
REPLAYED_SIGN_UP_NOTE = (
    "This Idempotency-Key was already used: the profile was made by the first request with it, and its key (the "
    "secret) was given in that first answer only. A key is never given twice, so whoever learns an "
    "Idempotency-Key cannot take the profile over. If the first answer never arrived, make a new profile with a "
    "new Idempotency-Key."
)


def hand_over_secret(response: Response, secret: str | None) -> Response:
    """Put a new profile's secret into POST /api/users' answer (201), which the user was created with empty.

    What Idempotency-Key stores is that empty answer, so no secret is ever kept. A replay (`secret` None: this
    request created nothing) answers the stored profile with `secret: null` and a note, and never mints or replaces
    a secret: the first request's secret stays the only one."""
    if response.status_code != 201:
        return response
    body = json.loads(response.get_data())
    if response.headers.get(REPLAYED_HEADER) == "true" or secret is None:
        body["data"]["secret"] = None
        body["data"]["secret_note"] = REPLAYED_SIGN_UP_NOTE
    else:
        body["data"]["secret"] = secret
    response.set_data(json.dumps(body, separators=(",", ":")))
    return response


def readable_profiles() -> Callable[[UserSummary], bool]:
    """Whether this request may see each listed profile's private data: a MovieLens profile always; a profile
    created in the app with its secret or the admin token (may_read, asked once per app profile)."""
    seen: dict[int, bool] = {}

    def readable(user: UserSummary) -> bool:
        if user.source != "app":
            return True
        if user.user_id not in seen:
            seen[user.user_id] = may_read(user.user_id)
        return seen[user.user_id]

    return readable


def _handle_missing_secret(exc: MissingSecretError) -> Response:
    response = error_response(exc.status, exc.code, exc.message, exc.details)
    response.headers["WWW-Authenticate"] = 'Bearer realm="movie-genie"'
    return response


def init_ownership(app: Flask, settings: Settings) -> None:
    """Keep the settings the rule needs on the app and answer 401s with their WWW-Authenticate header."""
    admin = hash_secret(settings.admin_token) if settings.admin_token else None
    app.extensions[EXTENSION_KEY] = Access(demo_mode=settings.demo_mode, admin_token_hash=admin)
    app.register_error_handler(MissingSecretError, _handle_missing_secret)
