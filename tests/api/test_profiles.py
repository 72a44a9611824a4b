"""A profile as its owner handles it: export its ratings as a MovieLens ratings.csv, open it in another browser with
its key (POST /api/sign-in), and delete it with every row it left (DELETE /api/users/{id})."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from movie_genie.api.app import create_app
from movie_genie.api.services import EXTENSION_KEY, Services
from movie_genie.db.models import Base, IdempotencyKey, Impression, ImpressionEvent, RetiredUserId
from tests.api.helpers import bearer, error_message
from tests.artefacts import Artefacts

# Names made by the tests carry no digits: a number in a query also matches the names people gave profiles.
LETTERS = str.maketrans("0123456789", "ghijklmnop")

ADMIN_TOKEN = "admin-token-for-the-profile-tests-0123"
PRODUCTION = {"production": True, "demo_mode": False, "admin_token": ADMIN_TOKEN}
CSV_HEADER = ["userId", "movieId", "rating", "timestamp"]


def _services(app: Flask) -> Services:
    found: Services = app.extensions[EXTENSION_KEY]
    return found


def _sign_up(
    client: FlaskClient, liked: list[int], name: str | None = None, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    response = client.post("/api/users", json={"liked_movie_ids": liked, "display_name": name}, headers=headers or {})
    assert response.status_code == 201, response.get_data(as_text=True)
    data = response.get_json()["data"]
    return int(data["user"]["user_id"]), str(data["secret"])


def _mark(client: FlaskClient, secret: str, user_id: int, movie_id: int, kind: str, value: float | None = None) -> None:
    body = {"user_id": user_id, "movie_id": movie_id, "kind": kind, "value": value}
    response = client.post("/api/feedback", json=body, headers=bearer(secret))
    assert response.status_code in (200, 201), response.get_data(as_text=True)


def _csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


# --- export ----------------------------------------------------------------------------------------------------


def test_the_ratings_export_is_a_movielens_ratings_csv_of_current_app_ratings(client: FlaskClient) -> None:
    user_id, secret = _sign_up(client, [1, 50, 100])
    _mark(client, secret, user_id, 7, "rating", 4.0)
    _mark(client, secret, user_id, 7, "rating", 3.5)  # changed: the new rating only
    _mark(client, secret, user_id, 8, "rating", 5.0)
    _mark(client, secret, user_id, 9, "rating", 2.0)
    cleared = client.delete(f"/api/feedback?user_id={user_id}&movie_id=9&kind=rating", headers=bearer(secret))
    assert cleared.get_json()["data"]["removed"] == 1

    response = client.get(f"/api/users/{user_id}/ratings.csv", headers=bearer(secret))
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="movie-genie-ratings-{user_id}.csv"'
    rows = _csv(response)
    assert rows[0] == CSV_HEADER
    # Likes are not ratings; the cleared rating is gone; by movie id, as MovieLens orders a user's lines.
    assert [r[:3] for r in rows[1:]] == [[str(user_id), "7", "3.5"], [str(user_id), "8", "5.0"]]
    now = datetime.now().timestamp()
    assert all(now - 600 < int(r[3]) <= now + 1 for r in rows[1:]), "unix seconds of the rating"

    # The owner only, as GET /api/users/{id}/ratings.
    error_message(client.get(f"/api/users/{user_id}/ratings.csv"), 401, "secret_required")
    _, other = _sign_up(client, [2, 3, 4])
    error_message(client.get(f"/api/users/{user_id}/ratings.csv", headers=bearer(other)), 403, "not_owner")
    error_message(client.get("/api/users/99999999/ratings.csv"), 404, "not_found")


def test_the_export_of_a_movielens_user_has_its_data_set_ratings_with_app_ratings_replacing_them(
    client: FlaskClient,
) -> None:
    user_id = 45  # no other test of the API marks it
    listed: dict[int, tuple[float, str]] = {}
    page = 1
    while True:
        body = client.get(f"/api/users/{user_id}/ratings?page={page}&page_size=100").get_json()
        listed.update({r["movie"]["movie_id"]: (r["rating"], r["at"]) for r in body["data"]})
        if page * 100 >= body["meta"]["total"]:
            break
        page += 1
    rows = _csv(client.get(f"/api/users/{user_id}/ratings.csv"))
    exported = {int(m): (float(r), int(ts)) for _, m, r, ts in rows[1:]}
    assert rows[0] == CSV_HEADER and len(exported) == len(listed) > 10
    assert {m: r for m, (r, _) in exported.items()} == {m: r for m, (r, _) in listed.items()}
    assert [int(r[1]) for r in rows[1:]] == sorted(exported)
    assert all(exported[m][1] == int(datetime.fromisoformat(at).timestamp()) for m, (_, at) in listed.items())

    # Rated again in the app (demo mode: anyone may rate as a MovieLens user): the new rating replaces the old line.
    movie_id = min(exported)
    new = 1.0 if exported[movie_id][0] != 1.0 else 5.0
    client.post("/api/feedback", json={"user_id": user_id, "movie_id": movie_id, "kind": "rating", "value": new})
    try:
        again = {int(m): float(r) for _, m, r, _ in _csv(client.get(f"/api/users/{user_id}/ratings.csv"))[1:]}
        assert again == {**{m: r for m, (r, _) in exported.items()}, movie_id: new}
    finally:
        client.delete(f"/api/feedback?user_id={user_id}&movie_id={movie_id}&kind=rating")
    restored = {int(m): float(r) for _, m, r, _ in _csv(client.get(f"/api/users/{user_id}/ratings.csv"))[1:]}
    assert restored == {m: r for m, (r, _) in exported.items()}, "a cleared app rating brings the data set's back"


# --- sign in ---------------------------------------------------------------------------------------------------


def test_a_profile_key_signs_in_to_that_profile(client: FlaskClient) -> None:
    name = "Key holder " + uuid.uuid4().hex[:6].translate(LETTERS)
    user_id, secret = _sign_up(client, [11, 12, 13], name)
    _sign_up(client, [14, 15, 16])  # another profile: its key is not this one's
    response = client.post("/api/sign-in", json={"key": secret})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["data"] == {"user_id": user_id, "display_name": name}
    # Pasted with the spaces and line break a copy often brings.
    assert client.post("/api/sign-in", json={"key": f"  {secret}\n"}).get_json()["data"]["user_id"] == user_id


def test_an_unknown_or_empty_key_is_a_401_that_says_where_to_find_the_key(client: FlaskClient) -> None:
    for key in ("not-a-key-of-anyone", "", "   ", ADMIN_TOKEN):
        response = client.post("/api/sign-in", json={"key": key})
        message = error_message(response, 401, "unknown_key")
        assert "No profile has this key" in message and "Your profile key" in message
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_signing_in_is_rate_limited_per_client_in_production(app: Flask, artefacts: Artefacts) -> None:
    params = artefacts.with_serving(sign_in_rate_limit="3 per minute")
    client = create_app(artefacts.settings(**PRODUCTION), params, services=_services(app)).test_client()
    statuses = [
        client.post("/api/sign-in", json={"key": f"guess-{i}"}, environ_base={"REMOTE_ADDR": "198.51.100.21"})
        for i in range(4)
    ]
    assert [r.status_code for r in statuses] == [401, 401, 401, 429]
    error_message(statuses[-1], 429, "rate_limited")
    # Another address has its own budget.
    other = client.post("/api/sign-in", json={"key": "guess"}, environ_base={"REMOTE_ADDR": "198.51.100.22"})
    assert other.status_code == 401


# --- delete ----------------------------------------------------------------------------------------------------


def _rows_of(app: Flask, user_id: int) -> dict[str, int]:
    """Rows that belong to the user in every table with a user_id column, plus what hangs off its impressions and
    the stored Idempotency-Key answers that carry it."""
    services = _services(app)
    services.online.impressions.settle()
    counts: dict[str, int] = {}
    with services.db.session() as session:
        for table in Base.metadata.sorted_tables:
            # A deleted profile's id stays retired (only the number): no later profile may get it.
            if "user_id" in table.c and table.name != RetiredUserId.__tablename__:
                counts[table.name] = int(
                    session.execute(
                        select(func.count()).select_from(table).where(table.c.user_id == user_id)
                    ).scalar_one()
                )
        shown = select(Impression.id).where(Impression.user_id == user_id)
        counts["impression_events"] = int(
            session.execute(
                select(func.count()).select_from(ImpressionEvent).where(ImpressionEvent.impression_id.in_(shown))
            ).scalar_one()
        )
        answers = session.execute(select(IdempotencyKey.response).where(IdempotencyKey.response.is_not(None)))
        carries = re.compile(rf'"user_id":{user_id}[,}}]')
        counts["idempotency_keys"] = sum(1 for (text,) in answers if carries.search(text))
    return counts


def test_deleting_a_profile_removes_every_row_of_it_and_its_key_opens_nothing(app: Flask, client: FlaskClient) -> None:
    user_id, secret = _sign_up(client, [1, 2, 3, 4], headers={"Idempotency-Key": f"delete-me-{uuid.uuid4().hex}"})
    owner = bearer(secret)
    feedback = {"user_id": user_id, "movie_id": 7, "kind": "rating", "value": 4.5}
    key = {"Idempotency-Key": f"delete-me-rating-{uuid.uuid4().hex}"}
    assert client.post("/api/feedback", json=feedback, headers={**owner, **key}).status_code == 201
    home = client.get(f"/api/users/{user_id}/home", headers=owner).get_json()
    row_id, impression_id = next(iter(home["meta"]["impression_ids"].items()))
    row = next(r for r in home["data"]["rows"] if r["id"] == row_id)
    click = {"movie_id": row["items"][0]["movie"]["movie_id"]}
    assert client.post(f"/api/impressions/{impression_id}/clicks", json=click, headers=owner).status_code == 201
    before = _rows_of(app, user_id)
    assert all(before[t] > 0 for t in ("users", "feedback_events", "impressions", "impression_events"))
    assert before["idempotency_keys"] == 2, before

    # The owner only.
    error_message(client.delete(f"/api/users/{user_id}"), 401, "secret_required")
    _, other = _sign_up(client, [5, 6, 7])
    error_message(client.delete(f"/api/users/{user_id}", headers=bearer(other)), 403, "not_owner")
    assert client.get(f"/api/users/{user_id}").status_code == 200

    response = client.delete(f"/api/users/{user_id}", headers=owner)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["data"] == {"user_id": user_id, "deleted": True}
    assert _rows_of(app, user_id) == dict.fromkeys(before, 0)

    error_message(client.get(f"/api/users/{user_id}"), 404, "not_found")
    error_message(client.get(f"/api/users/{user_id}/home", headers=owner), 404, "not_found")  # not the cached page
    error_message(client.post("/api/sign-in", json={"key": secret}), 401, "unknown_key")
    error_message(client.post("/api/feedback", json=feedback, headers=owner), 404, "not_found")
    error_message(client.delete(f"/api/users/{user_id}", headers=owner), 404, "not_found")
    # The id is never given to someone else: a browser that remembers it finds it gone.
    with _services(app).db.session() as session:
        assert session.get(RetiredUserId, user_id) is not None
    assert _sign_up(client, [8, 9, 10])[0] != user_id


def test_a_deleted_profile_with_no_marks_left_gets_no_cached_answer(app: Flask, client: FlaskClient) -> None:
    """Cached answers are keyed by the feedback version; a profile without events has the same version before it
    is deleted as an empty one, so a deleted profile's version must differ."""
    user_id, secret = _sign_up(client, [20, 21, 22])
    for movie_id in (20, 21, 22):
        client.delete(f"/api/feedback?user_id={user_id}&movie_id={movie_id}&kind=like", headers=bearer(secret))
    assert client.get(f"/api/users/{user_id}/home", headers=bearer(secret)).status_code == 200  # cached now
    assert client.get(f"/api/recommendations?user_id={user_id}", headers=bearer(secret)).status_code == 200
    assert client.delete(f"/api/users/{user_id}", headers=bearer(secret)).status_code == 200
    error_message(client.get(f"/api/users/{user_id}/home", headers=bearer(secret)), 404, "not_found")
    error_message(client.get(f"/api/recommendations?user_id={user_id}", headers=bearer(secret)), 404, "not_found")


def test_a_movielens_profile_cannot_be_deleted(app: Flask, artefacts: Artefacts, client: FlaskClient) -> None:
    message = error_message(client.delete("/api/users/3"), 403, "data_set_profile")  # demo mode: anyone may rate as 3
    assert "MovieLens" in message and "made in the app" in message
    production = create_app(artefacts.settings(**PRODUCTION), artefacts.params, services=_services(app)).test_client()
    error_message(production.delete("/api/users/3", headers=bearer(ADMIN_TOKEN)), 403, "data_set_profile")
    assert client.get("/api/users/3").status_code == 200
    error_message(client.delete("/api/users/99999999"), 404, "not_found")


# --- the spec ----------------------------------------------------------------------------------------------------


def test_the_new_operations_are_in_the_spec(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    paths = spec["paths"]
    export = paths["/api/users/{user_id}/ratings.csv"]["get"]
    assert export["operationId"] == "export_user_ratings"
    assert set(export["responses"]["200"]["content"]) == {"text/csv"}
    assert "Content-Disposition" in export["responses"]["200"]["headers"]
    assert paths["/api/users/{user_id}"]["delete"]["operationId"] == "delete_user"
    assert {"200", "401", "403", "404"} <= set(paths["/api/users/{user_id}"]["delete"]["responses"])
    sign_in = paths["/api/sign-in"]["post"]
    assert sign_in["operationId"] == "sign_in" and {"200", "401", "429"} <= set(sign_in["responses"])
