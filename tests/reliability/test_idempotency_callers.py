"""An Idempotency-Key replays only for the caller that sent it (issue 31, part 3, "Privacy").

The defect: a sign-up's stored answer was replayed to anyone who sent the same Idempotency-Key and body, so whoever
learned (or guessed) a key got the new profile's id, name and first recommendations (an earlier fix already stopped
the replay from minting a new secret). Now the key is bound to a hash of the body together with the caller's
Authorization and Client-Token headers: another caller with the same key and body gets a 409 that says why and
what to do, never the profile; a sign-up without a Client-Token has no caller to recognise, so its key never
replays. The caller that sent the key still gets its replay (and still no second secret).
"""

from __future__ import annotations

import uuid

from flask.testing import FlaskClient

from tests.api.helpers import bearer, error_message

BODY = {"liked_movie_ids": [20, 21, 22], "display_name": "Bound Key"}


def _sign_up(client: FlaskClient, key: str, token: str | None) -> tuple[int, dict[str, object]]:
    headers = {"Idempotency-Key": key} | ({"Client-Token": token} if token else {})
    response = client.post("/api/users", json=BODY, headers=headers)
    return response.status_code, response.get_json()


def test_another_caller_with_the_same_key_and_body_gets_a_409_not_the_profile(client: FlaskClient) -> None:
    key, owner, stranger = f"bound-{uuid.uuid4().hex}", uuid.uuid4().hex, uuid.uuid4().hex
    status, first = _sign_up(client, key, owner)
    assert status == 201, first
    profile = first["data"]["user"]  # type: ignore[index]
    response = client.post("/api/users", json=BODY, headers={"Idempotency-Key": key, "Client-Token": stranger})
    message = error_message(response, 409, "idempotency_key_reused")
    assert "Client-Token" in message and "new key" in message
    text = response.get_data(as_text=True)
    assert str(profile["user_id"]) not in text and "secret" not in response.get_json()  # nothing of the profile
    # A caller that sends no token at all is a stranger too.
    status, anonymous = _sign_up(client, key, None)
    assert status == 409 and str(profile["user_id"]) not in str(anonymous)
    # The caller that sent the key still gets its replay: the same profile, and no second secret.
    status, replay = _sign_up(client, key, owner)
    assert status == 201 and replay["data"]["user"]["user_id"] == profile["user_id"]  # type: ignore[index]
    assert replay["data"]["secret"] is None  # type: ignore[index]
    secret = first["data"]["secret"]  # type: ignore[index]
    assert client.get(f"/api/users/{profile['user_id']}/feedback", headers=bearer(str(secret))).status_code == 200


def test_a_sign_up_key_without_a_client_token_never_replays(client: FlaskClient) -> None:
    """Nothing identifies such a caller, so a repeat of its key is refused (no second profile, nothing shown)."""
    key = f"tokenless-{uuid.uuid4().hex}"
    status, first = _sign_up(client, key, None)
    assert status == 201, first
    status, again = _sign_up(client, key, None)
    assert status == 409, again
    assert again["error"]["code"] == "idempotency_key_reused"  # type: ignore[index]
    assert "Client-Token" in again["error"]["message"]  # type: ignore[index]
