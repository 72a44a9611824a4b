"""Privacy of the profiles made in the app (issue 31): a replayed sign-up never hands anyone a secret, and a
private profile shows others only that it exists (its id and name), in the profile and in the picker's list;
MovieLens profiles stay public, and the owner and the admin token still see everything."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from movie_genie.api.app import create_app
from movie_genie.api.services import EXTENSION_KEY
from tests.api.helpers import bearer
from tests.artefacts import Artefacts

ADMIN_TOKEN = "admin-token-for-the-privacy-tests-0123"
# Names made here carry no digits: a number in a picker query also matches the names people gave profiles.
LETTERS = str.maketrans("0123456789", "ghijklmnop")


def _sign_up(client: FlaskClient, name: str, liked: list[int], headers: dict[str, str] | None = None) -> Any:
    response = client.post("/api/users", json={"liked_movie_ids": liked, "display_name": name}, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response


def _unique_name(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:10].translate(LETTERS)}"


@pytest.fixture(scope="module")
def with_admin(app: Flask, artefacts: Artefacts) -> Flask:
    """The session's services with an admin token (demo mode as in the tests' default)."""
    settings = artefacts.settings(admin_token=ADMIN_TOKEN)
    return create_app(settings, artefacts.params, services=app.extensions[EXTENSION_KEY])


# --- 1. a replayed sign-up ---------------------------------------------------------------------------------------


def test_a_replayed_sign_up_hands_no_secret_and_keeps_the_first(client: FlaskClient) -> None:
    """Before: a replay of the key returned a new secret that replaced the first, so whoever learned (or guessed) an
    Idempotency-Key took the profile over."""
    headers = {"Idempotency-Key": f"privacy-replay-{uuid.uuid4().hex}", "Client-Token": uuid.uuid4().hex}
    first = _sign_up(client, "Replay Owner", [10, 11, 12], headers).get_json()["data"]
    again = client.post(
        "/api/users", json={"liked_movie_ids": [10, 11, 12], "display_name": "Replay Owner"}, headers=headers
    )
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    replay = again.get_json()["data"]
    user_id = first["user"]["user_id"]
    assert replay["user"]["user_id"] == user_id
    # The replayer gets no secret, and is told why and what to do.
    assert replay["secret"] is None
    assert "already" in replay["secret_note"] and "first" in replay["secret_note"]
    assert first["secret"] and first.get("secret_note") is None
    # The first secret still opens the profile; nothing else does.
    assert client.get(f"/api/users/{user_id}/feedback", headers=bearer(first["secret"])).status_code == 200
    assert client.get(f"/api/users/{user_id}/feedback").status_code == 401
    # A third replay changes nothing either.
    third = client.post(
        "/api/users", json={"liked_movie_ids": [10, 11, 12], "display_name": "Replay Owner"}, headers=headers
    )
    assert third.get_json()["data"]["secret"] is None
    assert client.get(f"/api/users/{user_id}/feedback", headers=bearer(first["secret"])).status_code == 200


# --- 2. a private profile's public view --------------------------------------------------------------------------

PRIVATE_FIELDS = ("taste", "favourites", "top_genres", "recent", "recent_genres")
COUNTS = ("rating_count", "like_count", "dislike_count", "watched_count")


def _hidden(user: dict[str, Any]) -> bool:
    """Whether a profile as served shows nothing but that it exists."""
    return (
        user["private"] is True
        and all(not user.get(f) for f in PRIVATE_FIELDS)
        and all(not user.get(c) for c in COUNTS)
        and user.get("first_rated_at") is None
        and user.get("last_rated_at") is None
    )


def _picker_entry(client: FlaskClient, name: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = client.get("/api/users", query_string={"q": name}, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    found = [u for u in response.get_json()["data"] if u["display_name"] == name]
    assert len(found) == 1, response.get_json()
    return dict(found[0])


def test_an_app_profile_shows_others_only_its_id_and_name(client: FlaskClient, with_admin: Flask) -> None:
    """Before: anyone read an app profile's favourites, counts and taste (only `recent` was hidden), from the
    profile and from the picker's list."""
    name = _unique_name("Private Viewer")
    created = _sign_up(client, name, [1, 50, 100]).get_json()["data"]
    user_id, secret = created["user"]["user_id"], created["secret"]
    body = {"user_id": user_id, "movie_id": 7, "kind": "rating", "value": 4.5}
    assert client.post("/api/feedback", json=body, headers=bearer(secret)).status_code == 201

    # Anyone else (no secret, another profile's secret): that it exists, its id and its name.
    other_secret = _sign_up(client, _unique_name("Someone Else"), [2, 3, 4]).get_json()["data"]["secret"]
    for headers in (None, bearer(other_secret)):
        public = client.get(f"/api/users/{user_id}", headers=headers)
        assert public.status_code == 200
        user = public.get_json()["data"]
        assert (user["user_id"], user["display_name"], user["source"]) == (user_id, name, "app")
        assert _hidden(user), user
        assert "Authorization" in public.headers.get("Vary", "")
        assert _hidden(_picker_entry(client, name, headers))

    # Its owner and the admin token: everything.
    admin = with_admin.test_client()
    for viewer, headers in ((client, bearer(secret)), (admin, bearer(ADMIN_TOKEN))):
        own = viewer.get(f"/api/users/{user_id}", headers=headers).get_json()["data"]
        assert own["private"] is False
        assert own["favourites"] and own["like_count"] == 3 and own["rating_count"] == 1 and own["recent"]
        listed = _picker_entry(viewer, name, headers)
        assert listed["private"] is False and listed["favourites"] and listed["rating_count"] == 1


def test_the_picker_finds_an_app_profile_by_its_name_not_its_taste(client: FlaskClient) -> None:
    """A word search that matched an app profile's taste terms (kept live as it marks films) told anyone what it
    liked: being listed for 'war' says the profile likes war films."""
    name = _unique_name("Quiet Fan")
    created = _sign_up(client, name, [50, 172, 181]).get_json()["data"]
    own = client.get(f"/api/users/{created['user']['user_id']}", headers=bearer(created["secret"]))
    word = own.get_json()["data"]["taste"][0]["name"].lower()  # its most distinctive genre, as its owner sees it
    total = client.get("/api/users", query_string={"q": word}).get_json()["meta"]["total"]
    listed = [
        u["user_id"]
        for page in range(1, -(-total // 100) + 1)
        for u in client.get("/api/users", query_string={"q": word, "page_size": 100, "page": page}).get_json()["data"]
    ]
    assert listed and created["user"]["user_id"] not in listed
    assert _picker_entry(client, name)["user_id"] == created["user"]["user_id"]


def test_a_movielens_profile_stays_public(client: FlaskClient) -> None:
    user = client.get("/api/users/1").get_json()["data"]
    assert user["private"] is False and user["favourites"] and user["rating_count"] > 0 and user["recent"]
    listed = client.get("/api/users", query_string={"q": "1"}).get_json()["data"][0]
    assert listed["user_id"] == 1 and listed["private"] is False and listed["favourites"]
