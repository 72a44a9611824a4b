"""Every endpoint and its error cases, on the session's real artefacts (responses validated against the schemas)."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from flask.testing import FlaskClient

from movie_genie.api.schemas import MAX_K, MAX_QUERY_CHARS, ModelName
from movie_genie.evaluation.schema import EvaluationReport
from movie_genie.models.catalogue import MODEL_NAMES


def _ok(client: FlaskClient, url: str, status: int = 200, headers: dict[str, str] | None = None) -> Any:
    response = client.get(url, headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"data", "meta"}
    assert body["meta"]["took_ms"] >= 0
    return body


def _error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["message"]
    assert "Traceback" not in response.get_data(as_text=True)
    if code is not None:
        assert error["code"] == code
    return error


# --- system ----------------------------------------------------------------------------------------------------


def test_ping(client: FlaskClient) -> None:
    assert _ok(client, "/api/ping")["data"] == {"status": "ok"}


def test_health_reports_every_dependency(client: FlaskClient) -> None:
    response = client.get("/api/health")
    body = response.get_json()
    checks = body["data"]["checks"]
    assert {"database", "search_index", "cache", "model:popularity", "model:two_tower"} <= set(checks)
    assert checks["database"]["ok"] and checks["search_index"]["ok"]
    # Readiness: every capability served (by its first choice or a fallback), whatever else is down.
    capabilities = body["data"]["capabilities"]
    assert set(capabilities) == {"recommendations", "similar_films", "search", "database"}
    ready = all(c["ok"] for c in capabilities.values())
    assert response.status_code == (200 if ready else 503)
    assert body["data"]["status"] == ("ready" if ready else "not_ready")
    assert body["data"]["degraded"] == (not all(c["ok"] for c in checks.values()))


def test_models_lists_versions_and_report(client: FlaskClient) -> None:
    data = _ok(client, "/api/models")["data"]
    by_name = {m["api_name"]: m for m in data["models"]}
    assert {"hybrid", "bert4rec", "two_tower", "popularity", "ease"} <= set(by_name)
    assert all(m["name"] == m["api_name"] for m in data["models"])  # the API names models as the registry does
    assert by_name["popularity"]["loaded"] and len(by_name["popularity"]["version"]) == 12
    # The report is typed by the evaluation layer's schema, and each model carries its own entry of it.
    report = EvaluationReport.model_validate(data["report"])
    assert by_name["ease"]["evaluation"] == data["report"]["models"]["ease"]
    assert report.models["popularity"].vs_ease is not None and report.models["ease"].vs_ease is None


# --- users -----------------------------------------------------------------------------------------------------


def test_list_users_is_paged_with_stats(client: FlaskClient) -> None:
    body = _ok(client, "/api/users?page=2&page_size=5")
    assert len(body["data"]) == 5
    assert body["meta"]["page"] == 2 and body["meta"]["total"] > 100
    user = body["data"][0]
    assert user["user_id"] == 6 and user["rating_count"] > 0 and user["top_genres"]


def test_list_users_search_by_id(client: FlaskClient) -> None:
    data = _ok(client, "/api/users?q=42")["data"]
    assert 42 in [u["user_id"] for u in data]


def test_read_user_has_recent_history(client: FlaskClient) -> None:
    data = _ok(client, "/api/users/1")["data"]
    assert data["user_id"] == 1 and data["rating_count"] > 20
    assert data["recent"] and data["recent"][0]["movie"]["title"]
    assert data["recent_genres"][0]["count"] >= data["recent_genres"][-1]["count"]


def test_read_unknown_user_is_404(client: FlaskClient) -> None:
    _error(client.get("/api/users/999999"), 404, "not_found")


@pytest.mark.parametrize("url", ["/api/users?page_size=101", "/api/users?page=0", "/api/users?q=" + "x" * 201])
def test_list_users_bounds(client: FlaskClient, url: str) -> None:
    error = _error(client.get(url), 400, "validation_error")
    assert error["details"]


# --- movies ----------------------------------------------------------------------------------------------------


def test_browse_movies_filters_and_sorts(client: FlaskClient) -> None:
    body = _ok(client, "/api/movies?genre=comedy&year_min=1990&year_max=1995&sort=rating&page_size=10")
    assert 0 < len(body["data"]) <= 10
    for movie in body["data"]:
        assert "Comedy" in movie["genres"] and 1990 <= movie["year"] <= 1995


def test_browse_unknown_genre_is_400(client: FlaskClient) -> None:
    error = _error(client.get("/api/movies?genre=NotAGenre"), 400)
    assert "genre" in error["message"] and "Comedy" in str(error["details"])  # the spec's enum, listed


def test_browse_inverted_years_is_400(client: FlaskClient) -> None:
    _error(client.get("/api/movies?year_min=1999&year_max=1990"), 400, "validation_error")


def test_popular_movies_in_genre(client: FlaskClient) -> None:
    data = _ok(client, "/api/movies/popular?k=5&genre=Sci-Fi")["data"]
    assert len(data) == 5 and all("Sci-Fi" in m["genres"] for m in data)
    counts = [m["rating_count"] for m in data]
    assert counts == sorted(counts, reverse=True)


def test_read_movie_details(client: FlaskClient) -> None:
    data = _ok(client, "/api/movies/1")["data"]
    assert data["title"] == "Toy Story" and data["year"] == 1995
    assert data["rating_count"] > 0 and 1 <= data["rating_mean"] <= 5
    assert "poster_path" in data


def test_read_unknown_movie_is_404(client: FlaskClient) -> None:
    _error(client.get("/api/movies/99999"), 404, "not_found")


def test_similar_movies_both_kinds(client: FlaskClient) -> None:
    body = _ok(client, "/api/movies/1/similar?k=5")
    data = body["data"]
    assert len(data["collaborative"]) == 5 and len(data["content"]) == 5
    for item in data["collaborative"] + data["content"]:
        assert item["movie"]["movie_id"] != 1 and item["reason"]
    again = _ok(client, "/api/movies/1/similar?k=5")
    assert again["meta"]["cached"] is True and again["data"] == data


def test_similar_unknown_movie_is_404(client: FlaskClient) -> None:
    _error(client.get("/api/movies/99999/similar"), 404)


def test_genres(client: FlaskClient) -> None:
    data = _ok(client, "/api/genres")["data"]
    names = [g["genre"] for g in data]
    assert "Drama" in names and all(g["count"] > 0 for g in data)


# --- search ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["hybrid", "semantic", "lexical", "title"])
def test_search_modes(client: FlaskClient, mode: str) -> None:
    data = _ok(client, f"/api/search?q=star+wars&mode={mode}&k=5")["data"]
    assert data["mode"] == mode and 0 < len(data["items"]) <= 5
    if mode in ("title", "hybrid", "lexical"):
        assert data["items"][0]["movie"]["title"] == "Star Wars"


def test_search_says_when_nothing_is_close(client: FlaskClient) -> None:
    """Gibberish gets no films and says so, rather than a page of strangers; filters that exclude everything do not
    claim that the query itself was far from everything."""
    data = _ok(client, "/api/search?q=asdfghjkl")["data"]
    assert (data["items"], data["no_close_match"]) == ([], True)
    filtered = _ok(client, "/api/search?q=star+wars&genre=Sci-Fi&year_min=2099")["data"]
    assert (filtered["items"], filtered["no_close_match"]) == ([], False)
    assert _ok(client, "/api/search?q=star+wars")["data"]["no_close_match"] is False


def test_search_filters(client: FlaskClient) -> None:
    data = _ok(client, "/api/search?q=space+adventure&genre=Sci-Fi&year_min=1980&min_ratings=10")["data"]
    for item in data["items"]:
        assert "Sci-Fi" in item["movie"]["genres"] and item["movie"]["year"] >= 1980


def test_search_personalised_flag_is_honest(client: FlaskClient) -> None:
    data = _ok(client, "/api/search?q=love+story&user_id=1&k=10")["data"]
    plain = _ok(client, "/api/search?q=love+story&k=10")["data"]
    assert plain["personalized"] is False
    order = [i["movie"]["movie_id"] for i in data["items"]]
    plain_order = [i["movie"]["movie_id"] for i in plain["items"]]
    # Reported as personalised exactly when the ranking really changed.
    assert data["personalized"] == (order != plain_order)


@pytest.mark.parametrize(
    "url",
    [
        "/api/search",
        "/api/search?q=",
        "/api/search?q=" + "a" * (MAX_QUERY_CHARS + 1),
        "/api/search?q=x&mode=fuzzy",
        f"/api/search?q=x&k={MAX_K + 1}",
        "/api/search?q=x&year_min=2000&year_max=1990",
    ],
)
def test_search_validation(client: FlaskClient, url: str) -> None:
    _error(client.get(url), 400, "validation_error")


def test_search_with_filters_and_no_query_browses(client: FlaskClient) -> None:
    response = client.get("/api/search?genre=Comedy&year_min=1990")
    assert response.status_code == 200, response.get_json()
    items = response.get_json()["data"]["items"]
    assert items and all("Comedy" in i["movie"]["genres"] and i["movie"]["year"] >= 1990 for i in items)
    assert response.get_json()["data"]["did_you_mean"] is None


def test_search_unknown_genre_and_symbols_are_clear_400s(client: FlaskClient) -> None:
    assert "genre" in _error(client.get("/api/search?q=robots&genre=Nope"), 400)["message"]
    _error(client.get("/api/search?q=%21%21%21"), 400)


def test_search_non_latin_and_emoji(client: FlaskClient) -> None:
    for query in ("東京物語", "🤖 robots"):
        assert _ok(client, f"/api/search?q={query}")["data"]["query"]


def test_suggest(client: FlaskClient) -> None:
    data = _ok(client, "/api/search/suggest?q=star&k=3")["data"]
    assert len(data) == 3 and all(s["title"].lower().startswith("star") for s in data)
    _error(client.get("/api/search/suggest?q=star&k=21"), 400)


# --- recommendations -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["popularity", "ease", "bert4rec", "two_tower", "hybrid"])
def test_recommendations_every_model(client: FlaskClient, model: str) -> None:
    response = client.get(f"/api/recommendations?user_id=2&model={model}&k=7")
    if response.status_code == 503:
        # Only a model that was not trained may be unavailable, and then the message says how to get it.
        assert "movie-genie train" in _error(response, 503, "model_unavailable")["message"]
        return
    body = response.get_json()
    items = body["data"]["items"]
    assert body["data"]["model"] == model and body["meta"]["model"] == model
    assert len(items) == 7 and [i["rank"] for i in items] == list(range(1, 8))
    assert all(i["reason"] for i in items)
    seen = {h["movie"]["movie_id"] for h in client.get("/api/users/2").get_json()["data"]["recent"]}
    assert not seen & {i["movie"]["movie_id"] for i in items}


def test_recommendations_accept_the_deprecated_name_popular(client: FlaskClient) -> None:
    # The API names models as the registry does ("popularity"); "popular", its old name, is still accepted on input.
    body = _ok(client, "/api/recommendations?user_id=2&model=popular&k=3")
    assert body["data"]["model"] == body["meta"]["model"] == "popularity"
    assert body["data"]["items"] == _ok(client, "/api/recommendations?user_id=2&model=popularity&k=3")["data"]["items"]


def test_the_api_serves_the_registry_model_names() -> None:
    assert set(get_args(ModelName)) == set(MODEL_NAMES)


def test_popularity_reasons_say_how_many_ratings(client: FlaskClient) -> None:
    items = _ok(client, "/api/recommendations?user_id=2&model=popularity&k=3")["data"]["items"]
    assert [i["reason"] for i in items] == [
        {
            "kind": "popular",
            "source_movie_id": None,
            "genre": None,
            "label": f"Popular: {i['movie']['rating_count']:,} ratings",
        }
        for i in items
    ]


def test_recommendations_are_cached_until_feedback(client: FlaskClient) -> None:
    first = _ok(client, "/api/recommendations?user_id=3&model=popularity&k=5")
    second = _ok(client, "/api/recommendations?user_id=3&model=popularity&k=5")
    assert second["meta"]["cached"] is True and second["data"] == first["data"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/recommendations",
        "/api/recommendations?user_id=abc",
        "/api/recommendations?user_id=1&model=magic",
        "/api/recommendations?user_id=1&k=0",
        f"/api/recommendations?user_id=1&k={MAX_K + 1}",
    ],
)
def test_recommendations_validation(client: FlaskClient, url: str) -> None:
    _error(client.get(url), 400, "validation_error")


def test_recommendations_unknown_user_is_404(client: FlaskClient) -> None:
    _error(client.get("/api/recommendations?user_id=888888&model=popularity"), 404)


# --- feedback and new users ------------------------------------------------------------------------------------


def test_feedback_changes_the_next_recommendations(client: FlaskClient) -> None:
    url = "/api/recommendations?user_id=5&model=popularity&k=5"
    before = _ok(client, url)["data"]["items"]
    top = before[0]["movie"]["movie_id"]
    response = client.post("/api/feedback", json={"user_id": 5, "movie_id": top, "kind": "watched"})
    assert response.status_code == 201
    event = response.get_json()["data"]
    assert event["kind"] == "watched" and event["movie_id"] == top and event["title"]
    after = _ok(client, url)
    assert after["meta"]["cached"] is False
    assert top not in [i["movie"]["movie_id"] for i in after["data"]["items"]]
    listed = _ok(client, "/api/users/5/feedback")["data"]
    assert listed[0]["id"] == event["id"]


def test_dislike_excludes_a_film(client: FlaskClient) -> None:
    url = "/api/recommendations?user_id=7&model=ease&k=5"
    top = _ok(client, url)["data"]["items"][0]["movie"]["movie_id"]
    assert client.post("/api/feedback", json={"user_id": 7, "movie_id": top, "kind": "dislike"}).status_code == 201
    assert top not in [i["movie"]["movie_id"] for i in _ok(client, url)["data"]["items"]]


def test_rating_counts_in_live_movie_stats(client: FlaskClient) -> None:
    data = client.post("/api/users", json={"liked_movie_ids": [1, 50, 100]}).get_json()["data"]
    before = _ok(client, "/api/movies/2")["data"]["rating_count"]
    body = {"user_id": data["user"]["user_id"], "movie_id": 2, "kind": "rating", "value": 4.5}
    headers = {"Authorization": f"Bearer {data['secret']}"}  # the new profile's owner (tests/api/test_ownership.py)
    assert client.post("/api/feedback", json=body, headers=headers).status_code == 201
    assert _ok(client, "/api/movies/2")["data"]["rating_count"] == before + 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"user_id": 1, "movie_id": 1, "kind": "rating"}, 400),
        ({"user_id": 1, "movie_id": 1, "kind": "rating", "value": 5.5}, 400),
        ({"user_id": 1, "movie_id": 1, "kind": "rating", "value": 3.3}, 400),
        ({"user_id": 1, "movie_id": 1, "kind": "like", "value": 4}, 400),
        ({"user_id": 1, "movie_id": 1, "kind": "love"}, 400),
        ({"user_id": 1, "movie_id": 99999, "kind": "like"}, 404),
        ({"user_id": 999999, "movie_id": 1, "kind": "like"}, 404),
    ],
)
def test_feedback_errors(client: FlaskClient, body: dict[str, Any], status: int) -> None:
    _error(client.post("/api/feedback", json=body), status)


def test_feedback_malformed_json_is_400(client: FlaskClient) -> None:
    response = client.post("/api/feedback", data="{not json", content_type="application/json")
    _error(response, 400)


def test_create_user_cold_start(client: FlaskClient) -> None:
    liked = [50, 172, 181]  # Star Wars, The Empire Strikes Back, Return of the Jedi
    response = client.post("/api/users", json={"liked_movie_ids": liked, "display_name": "Tester"})
    assert response.status_code == 201, response.get_data(as_text=True)
    data = response.get_json()["data"]
    user = data["user"]
    assert user["source"] == "app" and user["display_name"] == "Tester" and user["like_count"] == 3
    recs = data["recommendations"]["items"]
    assert recs and not {r["movie"]["movie_id"] for r in recs} & set(liked)
    # The new user is a normal user from now on: their history is their likes.
    owner = {"Authorization": f"Bearer {data['secret']}"}  # an app profile's recommendations are its owner's
    again = _ok(client, f"/api/recommendations?user_id={user['user_id']}&model=popularity&k=5", headers=owner)
    assert again["meta"]["history_size"] == 3


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"liked_movie_ids": [1, 2]}, 400),
        ({"liked_movie_ids": [1, 1, 1]}, 400),
        ({"liked_movie_ids": [1, 2, 99999]}, 404),
        ({"liked_movie_ids": list(range(1, 60))}, 400),
        ({}, 400),
    ],
)
def test_create_user_errors(client: FlaskClient, body: dict[str, Any], status: int) -> None:
    _error(client.post("/api/users", json=body), status)


# --- generic errors --------------------------------------------------------------------------------------------


def test_unknown_api_path_is_json_404(client: FlaskClient) -> None:
    _error(client.get("/api/nope"), 404, "not_found")
    _error(client.post("/api/nope"), 404, "not_found")


def test_wrong_method_is_json_405(client: FlaskClient) -> None:
    response = client.delete("/api/movies/1")
    _error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]
