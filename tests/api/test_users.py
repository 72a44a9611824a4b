"""The user picker and the profile through the API on the real ml-100k slice: users described by what is
distinctive in their taste, an id query that matches that id (not every id containing its digits), a taste word
query, the paged rating history and "people with similar taste" (Two-Tower, with a stated fallback)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from movie_genie.api.services import Services
from movie_genie.db import taste
from movie_genie.db.models import FeedbackEvent

# Names made by the tests carry no digits: a number in a query also matches the names people gave profiles.
LETTERS = str.maketrans("0123456789", "ghijklmnop")

# ml-100k's occupations: a word of one matches the profiles of that occupation too.
OCCUPATIONS = "administrator artist doctor educator engineer entertainment executive healthcare homemaker lawyer "
OCCUPATIONS += "librarian marketing none other programmer retired salesman scientist student technician writer"


def _ok(client: FlaskClient, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _services(app: Flask) -> Services:
    found: Services = app.extensions["movie_genie"]
    return found


def test_an_id_query_matches_that_user_only(client: FlaskClient) -> None:
    """'42' used to match every id containing the digits (42, 142, 242, ... through the names)."""
    body = _ok(client, "/api/users?q=42")
    assert [u["user_id"] for u in body["data"]] == [42] and body["meta"]["total"] == 1


def test_users_are_described_by_distinctive_taste_not_the_common_genres(client: FlaskClient) -> None:
    users = _ok(client, "/api/users?page_size=100")["data"]
    described = [u for u in users if u["taste"]]
    assert len(described) >= 80, "most users have something that stands out"
    for user in described:
        for trait in user["taste"]:
            assert trait["lift"] >= taste.MIN_LIFT and trait["count"] >= taste.MIN_SUPPORT
    # The most rated genres are nearly always Drama/Comedy; the distinctive ones are spread over many genres.
    common = sum(u["top_genres"][0] in ("Drama", "Comedy") for u in users)
    first_traits = {u["taste"][0]["name"] for u in described}
    assert common >= 60 and len(first_traits) >= 8
    assert sum(u["taste"][0]["name"] in ("Drama", "Comedy") for u in described) < common / 3


def test_users_carry_favourites_and_activity(client: FlaskClient) -> None:
    user = _ok(client, "/api/users?q=1")["data"][0]
    assert user["user_id"] == 1 and len(user["favourites"]) == taste.FAVOURITES
    ratings = _ok(client, "/api/users/1/ratings?page_size=100")["data"]
    best = max(r["rating"] for r in ratings)
    rated = {r["movie"]["movie_id"]: r["rating"] for r in ratings}
    assert all(rated.get(f["movie_id"], best) == best for f in user["favourites"][:1])
    assert user["first_rated_at"] <= user["last_rated_at"]


def test_a_taste_word_finds_users_for_whom_it_stands_out(client: FlaskClient) -> None:
    body = _ok(client, "/api/users?q=horror&page_size=100")
    assert body["meta"]["total"] >= 3
    for user in body["data"]:
        assert "horror" in [t["name"].lower() for t in user["taste"]]
    # Where it stands out most (first among the user's genres) comes first.
    positions = [[t["name"].lower() for t in u["taste"]].index("horror") for u in body["data"]]
    assert positions == sorted(positions)


def _sign_up(client: FlaskClient, name: str, liked: list[int]) -> int:
    response = client.post("/api/users", json={"liked_movie_ids": liked, "display_name": name})
    assert response.status_code == 201, response.get_data(as_text=True)
    return int(response.get_json()["data"]["user"]["user_id"])


def test_a_two_word_query_ranks_profiles_by_how_many_words_they_match(app: Flask, client: FlaskClient) -> None:
    """'<name> horror' used to match nothing (the whole string had to appear in one field); now each word counts,
    and a profile matching both words comes first even when its id is the highest.

    Profiles created in the app are matched by their names only (issue 31: their taste is their owner's), so the
    profile matching both words has both in its name; the MovieLens profiles match 'horror' by their taste."""
    movies = _services(app).catalogue.movies
    by_popularity = _services(app).catalogue.by_popularity
    horror = [m for m in by_popularity if "Horror" in movies[m].genres][:8]
    comedy = [m for m in by_popularity if movies[m].genres == ["Comedy"]][:8]
    word = "zq" + uuid.uuid4().hex[:8].translate(LETTERS)  # a name word no other profile has (no digits: see above)
    name_only = _sign_up(client, f"{word} laughs", comedy)  # created first: the lower id
    both = _sign_up(client, f"{word} horror", comedy)
    _sign_up(client, f"{word[::-1]} screams", horror)  # a horror taste, but an app profile's: never found by it

    body = _ok(client, f"/api/users?q={word}%20horror&page_size=100")
    ids = [u["user_id"] for u in body["data"]]
    assert ids[:2] == [both, name_only], "both words, then a name match, then the other word alone"
    assert ids != sorted(ids), "match quality, not id order"
    rest = body["data"][2:]
    assert rest and all(
        "horror" in [t["name"].lower() for t in u["taste"]]
        if u["source"] == "movielens"
        else "horror" in u["display_name"].lower()
        for u in rest
    )
    assert body["meta"]["total"] == len(ids) == _ok(client, "/api/users?q=horror&page_size=100")["meta"]["total"] + 1
    # The words in the other order, with a small word and punctuation: the same profiles, the same order.
    assert [u["user_id"] for u in _ok(client, f"/api/users?q=the%20horror,%20{word}&page_size=100")["data"]] == ids


def test_a_word_finds_profiles_by_their_favourite_films_titles(app: Flask, client: FlaskClient) -> None:
    with _services(app).db.session() as session:
        marked = set(session.execute(select(FeedbackEvent.user_id).distinct()).scalars())
    # Users with app marks are described live; the search reads what `db load` stored.
    users = [u for u in _ok(client, "/api/users?page_size=100")["data"] if u["user_id"] not in marked]
    candidates = [
        (u, f["title"].split()[0].lower())
        for u in users
        for f in u["favourites"][:1]
        if len(f["title"].split()[0]) >= 5 and f["title"].split()[0].isalpha()
    ]
    owner, word = next(
        (u, w) for u, w in candidates if not any(w in t["name"].lower() for t in u["taste"]) and w not in OCCUPATIONS
    )
    found = _ok(client, f"/api/users?q={word}&page_size=100")
    assert owner["user_id"] in [u["user_id"] for u in found["data"]], f"{word!r} is the start of a favourite's title"
    everyone = _ok(client, "/api/users?page_size=1")["meta"]["total"]
    assert found["meta"]["total"] < everyone, "a title word is not in everyone's profile"


def test_ratings_are_paged_newest_first(client: FlaskClient) -> None:
    first = _ok(client, "/api/users/1/ratings?page=1&page_size=10")
    second = _ok(client, "/api/users/1/ratings?page=2&page_size=10")
    user = _ok(client, "/api/users/1")["data"]
    assert first["meta"]["total"] == user["rating_count"] and first["meta"]["page_size"] == 10
    moments = [r["at"] for r in first["data"] + second["data"]]
    assert moments == sorted(moments, reverse=True) and len(moments) == 20
    ids = [r["movie"]["movie_id"] for r in first["data"] + second["data"]]
    assert len(set(ids)) == 20
    assert all(0.5 <= r["rating"] <= 5 and r["source"] == "dataset" for r in first["data"])


def test_similar_users_come_from_two_tower_without_the_user(client: FlaskClient) -> None:
    data = _ok(client, "/api/users/1/similar?k=5")["data"]
    assert data["model"] == "two_tower" and data["note"] is None
    ids = [i["user"]["user_id"] for i in data["items"]]
    assert len(ids) == 5 and 1 not in ids
    scores = [i["score"] for i in data["items"]]
    assert scores == sorted(scores, reverse=True)


def test_similar_users_fall_back_to_shared_taste_when_two_tower_is_missing(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(_services(app).models.models, "two_tower")
    data = _ok(client, "/api/users/1/similar?k=5")["data"]
    assert data["model"] == "taste" and "not loaded" in data["note"]
    mine = {t["name"] for t in _ok(client, "/api/users/1")["data"]["taste"]}
    assert data["items"] and 1 not in [i["user"]["user_id"] for i in data["items"]]
    for item in data["items"]:
        assert mine & {t["name"] for t in item["user"]["taste"]}


@pytest.mark.parametrize("url", ["/api/users/999999/ratings", "/api/users/999999/similar"])
def test_unknown_user_is_404(client: FlaskClient, url: str) -> None:
    assert client.get(url).status_code == 404
