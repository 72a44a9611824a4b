"""Online evaluation through the API on the session's real database: impressions of served lists, clicks and marks
attributed to them, experiments (A/B and team-draft interleaving) and their report."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from movie_genie.api.app import create_app
from movie_genie.api.services import EXTENSION_KEY, Services
from movie_genie.config import Params
from movie_genie.db import impressions as impr
from movie_genie.db.models import Impression
from movie_genie.online.experiments import Experiment, assign
from tests.artefacts import Artefacts

HEX32 = re.compile(r"^[0-9a-f]{32}$")


def _services(app: Flask) -> Services:
    found: Services = app.extensions[EXTENSION_KEY]
    return found


def _stored(app: Flask, impression_id: str) -> tuple[Impression, list[tuple[int, str | None]]]:
    """The impression as the database has it (after this worker's queue is written) and its (movie, team) items."""
    services = _services(app)
    services.online.impressions.settle()
    with services.db.session() as session:
        row = session.get(Impression, impression_id)
        assert row is not None, f"impression {impression_id} was not written"
        session.expunge(row)
    items = list(zip(row.movie_ids, row.teams or [None] * len(row.movie_ids), strict=True))
    return row, [(int(m), t) for m, t in items]


def _events(app: Flask, impression_id: str) -> list[tuple[str, int, int, float | None]]:
    with _services(app).db.session() as session:
        return impr.list_events(session, impression_id)


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def _ids(body: Any) -> list[int]:
    return [i["movie"]["movie_id"] for i in body["data"]["items"]]


def test_recommendations_are_logged_as_impressions(client: FlaskClient, app: Flask) -> None:
    response = client.get("/api/recommendations?user_id=7&model=ease&k=6", headers={"X-Request-Id": "trace-42"})
    body = _ok(response)
    impression_id = body["meta"]["impression_id"]
    assert HEX32.match(impression_id) and response.headers["X-Request-Id"] == "trace-42"
    row, items = _stored(app, impression_id)
    assert (row.user_id, row.surface, row.model, row.request_id) == (7, "recommendations", "ease", "trace-42")
    assert row.model_version == body["meta"]["model_version"] and row.experiment is None
    assert items == [(m, None) for m in _ids(body)]
    # A cached answer is served again: a new impression of the same list.
    again = _ok(client.get("/api/recommendations?user_id=7&model=ease&k=6"))
    assert again["meta"]["cached"] is True and again["meta"]["impression_id"] != impression_id
    assert _stored(app, again["meta"]["impression_id"])[1] == items


def test_a_click_is_credited_to_the_impression_that_showed_the_film(client: FlaskClient, app: Flask) -> None:
    body = _ok(client.get("/api/recommendations?user_id=8&model=popularity&k=5"))
    impression_id, third = body["meta"]["impression_id"], _ids(body)[2]
    click = _ok(client.post(f"/api/impressions/{impression_id}/clicks", json={"movie_id": third}), 201)["data"]
    assert (click["impression_id"], click["movie_id"], click["position"], click["team"]) == (
        impression_id,
        third,
        3,
        None,
    )
    assert _events(app, impression_id) == [("click", third, 3, None)]
    not_shown = client.post(f"/api/impressions/{impression_id}/clicks", json={"movie_id": 999_999})
    assert _ok(not_shown, 404)["error"]["code"] == "movie_not_in_impression"
    unknown = client.post(f"/api/impressions/{uuid.uuid4().hex}/clicks", json={"movie_id": third})
    assert _ok(unknown, 404)["error"]["code"] == "impression_not_found"
    assert client.post("/api/impressions/not-an-id/clicks", json={"movie_id": third}).status_code == 400
    assert _events(app, impression_id) == [("click", third, 3, None)]


def test_marks_are_attributed_to_the_named_or_the_newest_impression(client: FlaskClient, app: Flask) -> None:
    first = _ok(client.get("/api/recommendations?user_id=9&model=popularity&k=5"))
    second = _ok(client.get("/api/recommendations?user_id=9&model=popularity&k=5"))
    a, b = first["meta"]["impression_id"], second["meta"]["impression_id"]
    movies = _ids(first)
    # A film of the user's own history: no list shows it to them.
    unseen = _ok(client.get("/api/users/9"))["data"]["recent"][0]["movie"]["movie_id"]
    try:
        # Named: the rating goes to the first impression, at the film's position there.
        rated = {"user_id": 9, "movie_id": movies[1], "kind": "rating", "value": 4.0, "impression_id": a}
        _ok(client.post("/api/feedback", json=rated), 201)
        assert _events(app, a) == [("rating", movies[1], 2, 4.0)] and _events(app, b) == []
        # Not named: the user's newest impression that showed the film.
        _ok(client.post("/api/feedback", json={"user_id": 9, "movie_id": movies[3], "kind": "like"}), 201)
        assert _events(app, b) == [("like", movies[3], 4, None)]
        # The same mark again is no new event; a film no impression showed is stored but credited to none.
        _ok(client.post("/api/feedback", json={"user_id": 9, "movie_id": movies[3], "kind": "like"}), 200)
        _ok(client.post("/api/feedback", json={"user_id": 9, "movie_id": unseen, "kind": "dismiss"}), 201)
        assert len(_events(app, a)) == len(_events(app, b)) == 1
    finally:
        for movie, kind in ((movies[1], "rating"), (movies[3], "like"), (unseen, "dismiss")):
            client.delete(f"/api/feedback?user_id=9&movie_id={movie}&kind={kind}")


def test_home_rows_are_logged_one_impression_each(client: FlaskClient, app: Flask) -> None:
    body = _ok(client.get("/api/users/10/home"))
    rows = {row["id"]: row for row in body["data"]["rows"]}
    ids = body["meta"]["impression_ids"]
    assert ids and set(ids) == {r for r, row in rows.items() if not row["history"] and row["items"]}
    for row_id, impression_id in ids.items():
        row, items = _stored(app, impression_id)
        assert row.surface == f"home:{row_id}" and row.model == rows[row_id]["model"]
        assert [m for m, _ in items] == [i["movie"]["movie_id"] for i in rows[row_id]["items"]]


def test_search_results_and_similar_films_shown_to_a_user_are_impressions(client: FlaskClient, app: Flask) -> None:
    found = _ok(client.get("/api/search?q=star&user_id=11&k=5"))
    row, items = _stored(app, found["meta"]["impression_id"])
    assert (row.user_id, row.surface, row.model) == (11, "search", None)
    assert [m for m, _ in items] == _ids(found)
    similar = _ok(client.get("/api/movies/1/similar?user_id=11&k=4"))
    ids = similar["meta"]["impression_ids"]
    assert set(ids) == {"collaborative", "content"}
    for kind, model in (("collaborative", "two_tower"), ("content", None)):
        row, items = _stored(app, ids[kind])
        assert (row.surface, row.model) == (f"similar:{kind}", model)
        assert [m for m, _ in items] == [i["movie"]["movie_id"] for i in similar["data"][kind]]
    # A click on a similar film is credited like any other.
    first = similar["data"]["content"][0]["movie"]["movie_id"]
    _ok(client.post(f"/api/impressions/{ids['content']}/clicks", json={"movie_id": first}), 201)
    # Without a user there is no one to credit: nothing is logged.
    assert _ok(client.get("/api/search?q=star&k=5"))["meta"].get("impression_id") is None
    assert _ok(client.get("/api/movies/1/similar?k=4"))["meta"]["impression_ids"] == {}


def test_a_click_on_a_private_profile_needs_its_secret(client: FlaskClient) -> None:
    created = _ok(client.post("/api/users", json={"liked_movie_ids": [1, 50, 100]}), 201)["data"]
    user, secret = created["user"]["user_id"], created["secret"]
    mine = {"Authorization": f"Bearer {secret}"}
    body = _ok(client.get(f"/api/recommendations?user_id={user}&model=popularity&k=3", headers=mine))
    url = f"/api/impressions/{body['meta']['impression_id']}/clicks"
    click = {"movie_id": _ids(body)[0]}
    assert _ok(client.post(url, json=click), 401)["error"]["code"] == "secret_required"
    _ok(client.post(url, json=click, headers=mine), 201)


# --- experiments -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def experiment_app(artefacts: Artefacts) -> Flask:
    """An app whose params run an A/B test on half the users and interleave for the rest (fresh names per run,
    since the reused test database keeps the impressions of earlier runs)."""
    suffix = uuid.uuid4().hex[:8]
    raw = artefacts.params.model_dump(mode="json")
    raw["experiments"] = [
        {"name": f"ab-{suffix}", "design": "ab", "variants": ["ease", "popularity"], "traffic": 0.5, "horizon": 2},
        {"name": f"il-{suffix}", "design": "interleaving", "variants": ["ease", "popularity"], "horizon": 1},
        {"name": f"over-{suffix}", "design": "ab", "variants": ["ease", "popularity"], "stop": "2000-01-01"},
    ]
    application = create_app(artefacts.settings(), Params.model_validate(raw))
    application.config["TESTING"] = False
    application.validate_response = True  # type: ignore[attr-defined]
    return application


def _experiments(app: Flask) -> tuple[Experiment, Experiment]:
    ab, interleaving, _over = _services(app).online.experiments.values()
    return ab, interleaving


def test_ab_serves_the_variants_model_and_reports_it(experiment_app: Flask) -> None:
    ab, _ = _experiments(experiment_app)
    # Three users of each arm (the experiment's name is new each run, so the users are too).
    arms = [[u for u in range(1, 300) if assign(ab, u) == v][:3] for v in ab.variants]
    users = [*arms[0], *arms[1]]
    client = experiment_app.test_client()
    served: dict[str, list[str]] = {"ease": [], "popularity": []}
    for user in users:
        body = _ok(client.get(f"/api/recommendations?user_id={user}&k=4"))
        variant = assign(ab, user)
        assert (body["meta"]["experiment"], body["meta"]["variant"]) == (ab.name, variant)
        assert body["meta"]["model"] == body["data"]["model"] == variant
        row, _ = _stored(experiment_app, body["meta"]["impression_id"])
        assert (row.experiment, row.variant, row.model) == (ab.name, variant, variant)
        served[str(variant)].append(body["meta"]["impression_id"])
        # A named model is not part of the experiment.
        named = _ok(client.get(f"/api/recommendations?user_id={user}&k=4&model=hybrid"))
        assert named["meta"]["experiment"] is None and named["meta"]["model"] == "hybrid"
    assert len(served["ease"]) == len(served["popularity"]) == 3
    clicked = served["ease"][0]
    row, items = _stored(experiment_app, clicked)
    _ok(client.post(f"/api/impressions/{clicked}/clicks", json={"movie_id": items[1][0]}), 201)
    report = _ok(client.get(f"/api/experiments/{ab.name}/report"))["data"]
    per = {v["variant"]: v for v in report["per_variant"]}
    assert report["design"] == "ab" and report["active"] is True
    assert per["ease"]["impressions"] == len(served["ease"]) and per["ease"]["clicks"] == 1
    assert per["ease"]["ctr"]["value"] == pytest.approx(1 / len(served["ease"]))
    assert per["ease"]["mrr"]["value"] == pytest.approx(0.5 / len(served["ease"]))
    assert per["popularity"]["clicks"] == 0 and per["popularity"]["ctr"]["value"] == 0
    assert "Fixed horizon" in report["decision"]["rule"]
    unknown = client.get("/api/experiments/no-such-thing/report")
    assert _ok(unknown, 404)["error"]["code"] == "experiment_not_found"


def test_interleaving_merges_both_rankers_and_credits_the_clicked_team(experiment_app: Flask) -> None:
    ab, il = _experiments(experiment_app)
    user = next(u for u in range(1, 60) if assign(ab, u) is None)
    client = experiment_app.test_client()
    body = _ok(client.get(f"/api/recommendations?user_id={user}&k=8"))
    assert (body["meta"]["experiment"], body["meta"]["variant"]) == (il.name, "interleaved")
    assert body["data"]["model"] == "ease+popularity"
    movies = _ids(body)
    assert len(movies) == len(set(movies)) == 8 and [i["rank"] for i in body["data"]["items"]] == list(range(1, 9))
    row, items = _stored(experiment_app, body["meta"]["impression_id"])
    assert [m for m, _ in items] == movies and row.variant == "interleaved"
    teams = [t for _, t in items]
    assert teams.count("ease") == teams.count("popularity") == 4
    # Each team's films are that ranker's own list, in its order.
    for team in ("ease", "popularity"):
        own = _ids(_ok(client.get(f"/api/recommendations?user_id={user}&k=8&model={team}")))
        picked = [m for m, t in items if t == team]
        assert picked == [m for m in own if m in picked]
    position = teams.index("popularity")
    click = {"movie_id": movies[position]}
    data = _ok(client.post(f"/api/impressions/{body['meta']['impression_id']}/clicks", json=click), 201)["data"]
    assert data["team"] == "popularity" and data["position"] == position + 1
    report = _ok(client.get(f"/api/experiments/{il.name}/report"))["data"]
    assert report["interleaving"]["wins"] == {"ease": 0, "popularity": 1}
    assert report["per_variant"][0]["impressions"] == 1
    assert report["decision"]["horizon_reached"] is True and report["decision"]["verdict"] == "no difference"


def test_an_experiment_past_its_stop_serves_no_one(experiment_app: Flask) -> None:
    over = next(e for e in _services(experiment_app).online.experiments.values() if e.name.startswith("over-"))
    client = experiment_app.test_client()
    report = _ok(client.get(f"/api/experiments/{over.name}/report"))["data"]
    assert report["active"] is False and all(v["impressions"] == 0 for v in report["per_variant"])
