"""Profiles with owners (api/ownership.py): writes and private reads need the profile's bearer secret; the MovieLens
profiles are writable only in local demo mode (the default, what `make run` serves) or with the admin token;
production settings turn demo mode off and rate-limit writes and profile creation per client."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from movie_genie.api.app import create_app
from movie_genie.api.config import ServingConfig
from movie_genie.api.serve import demo_mode_for
from movie_genie.api.services import EXTENSION_KEY, Services
from movie_genie.config import ConfigError, Settings
from movie_genie.db.models import IdempotencyKey, User
from tests.api.helpers import bearer, error_message
from tests.artefacts import Artefacts

ADMIN_TOKEN = "admin-token-for-the-tests-0123456789"
PRODUCTION = {"production": True, "demo_mode": False, "admin_token": ADMIN_TOKEN}


def _app(app: Flask, artefacts: Artefacts, settings: dict[str, Any], **serving: Any) -> Flask:
    """Another app on the already-loaded services (cheap), with other settings or serving values."""
    params = artefacts.with_serving(**serving)
    return create_app(artefacts.settings(**settings), params, services=app.extensions[EXTENSION_KEY])


def _sign_up(client: FlaskClient, liked: list[int] | None = None) -> tuple[int, str]:
    response = client.post("/api/users", json={"liked_movie_ids": liked or [1, 50, 100]})
    assert response.status_code == 201, response.get_data(as_text=True)
    data = response.get_json()["data"]
    return int(data["user"]["user_id"]), str(data["secret"])


@pytest.fixture(scope="module")
def production(app: Flask, artefacts: Artefacts) -> Flask:
    """The session's services under production settings (demo mode off, an admin token, write limits)."""
    return _app(app, artefacts, PRODUCTION)


def test_a_movielens_user_is_read_only_outside_demo_mode(production: Flask) -> None:
    client = production.test_client()
    before = client.get("/api/users/1/feedback").get_json()["data"]
    body = {"user_id": 1, "movie_id": 3, "kind": "like"}
    message = error_message(client.post("/api/feedback", json=body), 403, "demo_profile_read_only")
    assert "demo" in message and "POST /api/users" in message  # what is wrong and what to do
    error_message(client.delete("/api/feedback?user_id=1&movie_id=3&kind=like"), 403, "demo_profile_read_only")
    # Another profile's secret does not help either.
    _, secret = _sign_up(client)
    error_message(client.post("/api/feedback", json=body, headers=bearer(secret)), 403, "demo_profile_read_only")
    assert client.get("/api/users/1/feedback").get_json()["data"] == before  # public history, unchanged
    assert client.get("/api/access").get_json()["data"] == {"demo_mode": False, "notice": None, "admin": False}


def test_the_admin_token_writes_as_any_profile(production: Flask) -> None:
    client = production.test_client()
    body = {"user_id": 2, "movie_id": 4, "kind": "watched"}
    assert client.post("/api/feedback", json=body, headers=bearer(ADMIN_TOKEN)).status_code in (200, 201)
    assert client.get("/api/access", headers=bearer(ADMIN_TOKEN)).get_json()["data"]["admin"] is True
    removed = client.delete("/api/feedback?user_id=2&movie_id=4&kind=watched", headers=bearer(ADMIN_TOKEN))
    assert removed.status_code == 200


def test_demo_mode_is_the_default_and_lets_anyone_rate_as_movielens_users(client: FlaskClient) -> None:
    assert Settings(database_url="sqlite://", redis_url=None, tmdb_api_key=None, cors_origins=()).demo_mode
    access = client.get("/api/access").get_json()["data"]
    assert access["demo_mode"] is True and "anyone on this machine" in access["notice"]
    body = {"user_id": 9, "movie_id": 5, "kind": "watched"}
    assert client.post("/api/feedback", json=body).status_code in (200, 201)
    assert client.delete("/api/feedback?user_id=9&movie_id=5&kind=watched").status_code == 200


def test_an_app_profile_is_written_and_read_with_its_secret_only(client: FlaskClient, app: Flask) -> None:
    mine, secret = _sign_up(client)
    theirs, their_secret = _sign_up(client, [2, 3, 4])
    assert secret != their_secret
    # Reading another user's feedback: 401 without a secret (saying how to send one), 403 with someone else's.
    response = client.get(f"/api/users/{theirs}/feedback")
    assert "Authorization: Bearer" in error_message(response, 401, "secret_required")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    error_message(client.get(f"/api/users/{theirs}/feedback", headers=bearer(secret)), 403, "not_owner")
    for path in (f"/api/users/{theirs}/movies/2", f"/api/users/{theirs}/ratings", f"/api/users/{theirs}/home"):
        error_message(client.get(path), 401, "secret_required")
    assert client.get(f"/api/users/{theirs}/feedback", headers=bearer(their_secret)).status_code == 200
    # The public profile hides an app profile's history from everyone but its owner.
    assert client.get(f"/api/users/{theirs}").get_json()["data"]["recent"] == []
    assert client.get(f"/api/users/{theirs}", headers=bearer(their_secret)).get_json()["data"]["recent"]
    # Writing, even in demo mode: the owner's secret only.
    body = {"user_id": mine, "movie_id": 7, "kind": "rating", "value": 4.0}
    error_message(client.post("/api/feedback", json=body), 401, "secret_required")
    error_message(client.post("/api/feedback", json=body, headers=bearer(their_secret)), 403, "not_owner")
    assert client.post("/api/feedback", json=body, headers=bearer(secret)).status_code == 201
    delete = f"/api/feedback?user_id={mine}&movie_id=7&kind=rating"
    error_message(client.delete(delete), 401, "secret_required")
    assert client.delete(delete, headers=bearer(secret)).get_json()["data"]["removed"] == 1
    # The server keeps only the secret's hash.
    services: Services = app.extensions[EXTENSION_KEY]
    with services.db.session() as session:
        stored = session.execute(select(User.secret_hash).where(User.user_id == mine)).scalar_one()
    assert stored == hashlib.sha256(secret.encode()).hexdigest()


def test_a_replayed_sign_up_hands_over_no_secret_and_stores_none(client: FlaskClient, app: Flask) -> None:
    """A replay used to hand over a new secret that replaced the first: whoever learned the Idempotency-Key took
    the profile over (issue 31). Now the first secret stays the only one and a replay gets none."""
    headers = {"Idempotency-Key": f"ownership-replayed-sign-up-{uuid.uuid4().hex}", "Client-Token": uuid.uuid4().hex}
    body = {"liked_movie_ids": [10, 11, 12]}
    first = client.post("/api/users", json=body, headers=headers).get_json()["data"]
    again = client.post("/api/users", json=body, headers=headers).get_json()["data"]
    assert again["user"]["user_id"] == first["user"]["user_id"] and again["secret"] is None
    assert again["secret_note"] and first["secret_note"] is None
    user_id = first["user"]["user_id"]
    # The first secret still opens the profile after the replay.
    assert client.get(f"/api/users/{user_id}/feedback", headers=bearer(first["secret"])).status_code == 200
    services: Services = app.extensions[EXTENSION_KEY]
    with services.db.session() as session:
        query = select(IdempotencyKey.response).where(IdempotencyKey.key == headers["Idempotency-Key"])
        text = session.execute(query).scalar_one() or ""
        stored = session.execute(select(User.secret_hash).where(User.user_id == user_id)).scalar_one()
    assert first["secret"] not in text
    assert stored == hashlib.sha256(first["secret"].encode()).hexdigest()


def test_creating_50_users_quickly_from_one_client_is_rate_limited_in_production(production: Flask) -> None:
    client = production.test_client()
    statuses = [
        client.post("/api/users", json={"liked_movie_ids": [1, 2, 3]}, environ_base={"REMOTE_ADDR": "198.51.100.7"})
        for _ in range(50)
    ]
    allowed = int(ServingConfig().create_user_rate_limit.split()[0])
    assert [r.status_code for r in statuses].count(201) == allowed
    assert statuses[-1].status_code == 429 and statuses[-1].get_json()["error"]["code"] == "rate_limited"
    # Another client still may.
    other = client.post("/api/users", json={"liked_movie_ids": [1, 2, 3]}, environ_base={"REMOTE_ADDR": "198.51.100.8"})
    assert other.status_code == 201


def test_feedback_writes_are_rate_limited_per_client_in_production(app: Flask, artefacts: Artefacts) -> None:
    client = _app(app, artefacts, PRODUCTION, write_rate_limit="3 per hour").test_client()
    body = {"user_id": 3, "movie_id": 9, "kind": "watched"}
    statuses = [client.post("/api/feedback", json=body, headers=bearer(ADMIN_TOKEN)).status_code for _ in range(3)]
    assert all(s in (200, 201) for s in statuses)
    # POST and DELETE share one budget.
    delete = client.delete("/api/feedback?user_id=3&movie_id=9&kind=watched", headers=bearer(ADMIN_TOKEN))
    assert delete.status_code == 429


def test_development_settings_do_not_limit_writes(client: FlaskClient) -> None:
    body = {"user_id": 4, "movie_id": 9, "kind": "watched"}
    assert all(client.post("/api/feedback", json=body).status_code in (200, 201) for _ in range(15))


def test_x_forwarded_for_is_trusted_only_behind_a_configured_proxy(app: Flask, artefacts: Artefacts) -> None:
    def sign_ups(client: FlaskClient, forwarded: str) -> int:
        headers = {"X-Forwarded-For": forwarded}
        return client.post("/api/users", json={"liked_movie_ids": [1, 2, 3]}, headers=headers).status_code

    direct = _app(app, artefacts, PRODUCTION, create_user_rate_limit="1 per hour").test_client()
    # Without a trusted proxy a client cannot pick its own address: a spoofed header is the same client.
    assert sign_ups(direct, "203.0.113.1") == 201 and sign_ups(direct, "203.0.113.2") == 429
    proxied = _app(
        app, artefacts, {**PRODUCTION, "trusted_proxies": 1}, create_user_rate_limit="1 per hour"
    ).test_client()
    # Behind the proxy (which appends the real peer), each client address has its own budget.
    assert sign_ups(proxied, "203.0.113.1") == 201 and sign_ups(proxied, "203.0.113.2") == 201
    assert sign_ups(proxied, "203.0.113.1") == 429


def test_production_settings_turn_demo_mode_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOVIE_GENIE_ENV", "production")
    monkeypatch.delenv("MOVIE_GENIE_DEMO_MODE", raising=False)
    settings = Settings.from_env()
    assert settings.production and not settings.demo_mode
    monkeypatch.setenv("MOVIE_GENIE_DEMO_MODE", "1")
    with pytest.raises(ConfigError, match="demo mode"):
        Settings.from_env()
    monkeypatch.setenv("MOVIE_GENIE_ENV", "staging")
    with pytest.raises(ConfigError, match="MOVIE_GENIE_ENV"):
        Settings.from_env()
    monkeypatch.setenv("MOVIE_GENIE_ENV", "development")
    monkeypatch.setenv("MOVIE_GENIE_ADMIN_TOKEN", "short")
    with pytest.raises(ConfigError, match="MOVIE_GENIE_ADMIN_TOKEN"):
        Settings.from_env()


def test_demo_mode_is_for_loopback_unless_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOVIE_GENIE_DEMO_MODE", raising=False)
    local = Settings(database_url="sqlite://", redis_url=None, tmdb_api_key=None, cors_origins=())
    assert demo_mode_for(local, "127.0.0.1").demo_mode and demo_mode_for(local, "localhost").demo_mode
    assert demo_mode_for(local, "::1").demo_mode
    assert not demo_mode_for(local, "0.0.0.0").demo_mode
    monkeypatch.setenv("MOVIE_GENIE_DEMO_MODE", "1")
    assert demo_mode_for(local, "0.0.0.0").demo_mode


@pytest.mark.parametrize(
    "path",
    [
        "/api/recommendations?user_id={uid}",
        "/api/users/{uid}/similar",
        "/api/movies/popular?user_id={uid}",
        "/api/movies/1/similar?user_id={uid}",
        "/api/search?q=toy&user_id={uid}",
    ],
)
def test_what_is_derived_from_an_app_profiles_history_is_its_owners(client: FlaskClient, path: str) -> None:
    # Recommendations name films the user liked, and what a list leaves out tells what they touched.
    uid, secret = _sign_up(client)
    url = path.format(uid=uid)
    error_message(client.get(url), 401, "secret_required")
    _, other = _sign_up(client)
    error_message(client.get(url, headers=bearer(other)), 403, "not_owner")
    assert client.get(url, headers=bearer(secret)).status_code == 200
    assert client.get(path.format(uid=1)).status_code == 200  # a MovieLens profile's data set history is public
