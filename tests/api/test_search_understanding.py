"""GET /api/search says how it read the query (`understood`) and drops the readings a caller removes (`ignore`),
on the session's real ml-100k slice (genres and years; no cast, no tags)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.api.helpers import error_message


def _data(client: FlaskClient, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def test_search_says_how_it_read_the_query(client: FlaskClient) -> None:
    data = _data(client, "/api/search?q=90s+comedies")
    assert [(u["kind"], u["value"], u["words"], u["key"]) for u in data["understood"]] == [
        ("decade", "1990s", "90s", "decade:1990s"),
        ("genre", "Comedy", "comedies", "genre:Comedy"),
    ]
    assert data["items"] and data["people_need_details"] is False
    for item in data["items"]:
        assert 1990 <= item["movie"]["year"] <= 1999 and "Comedy" in item["movie"]["genres"]


def test_a_removed_reading_is_searched_as_plain_words(client: FlaskClient) -> None:
    without_genre = _data(client, "/api/search?q=90s+comedies&ignore=genre:Comedy")
    assert [u["key"] for u in without_genre["understood"]] == ["decade:1990s"]
    assert all(1990 <= item["movie"]["year"] <= 1999 for item in without_genre["items"])
    neither = _data(client, "/api/search?q=90s+comedies&ignore=genre:Comedy&ignore=decade:1990s")
    assert neither["understood"] == []


def test_a_title_is_not_read_as_a_genre(client: FlaskClient) -> None:
    assert _data(client, "/api/search?q=toy+story")["understood"] == []


def test_too_many_removed_readings_are_refused_with_the_limit(client: FlaskClient) -> None:
    response = client.get("/api/search?q=comedies" + "&ignore=genre:Comedy" * 21)
    assert "ignore: list should have at most 20 items" in error_message(response, 400, "validation_error")
