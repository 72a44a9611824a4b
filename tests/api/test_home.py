"""The product layer's rules, end to end through the API on the real ml-100k slice.

Nothing a user rated, liked, disliked, watched or dismissed appears in any row or list made for them (their history
row aside); ratings <= 2★ and dislikes are never reasons or seeds; marks toggle and the same mark twice is one event;
the home page's rows say what they are for and which model made them, and never share a film.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any, get_args

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from movie_genie.api.schemas import ModelName
from movie_genie.api.services import Services
from movie_genie.api.services.explanations import Explainer
from movie_genie.api.services.home import FALLBACK_NOTE
from movie_genie.api.services.user_view import UserView
from movie_genie.db.models import FeedbackEvent, Rating

USERS = list(range(1, 31))


def _ok(client: FlaskClient, url: str, status: int = 200, headers: dict[str, str] | None = None) -> Any:
    response = client.get(url, headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    return body["data"] if status < 400 else body["error"]


def _services(app: Flask) -> Services:
    found: Services = app.extensions["movie_genie"]
    return found


def _touched(app: Flask, user_id: int) -> dict[int, float | None]:
    """Every film the user touched (read straight from the tables): movie id -> their rating (None: a mark)."""
    with _services(app).db.session() as session:
        ratings = session.execute(select(Rating.movie_id, Rating.rating).where(Rating.user_id == user_id))
        touched: dict[int, float | None] = {int(m): float(r) for m, r in ratings}
        events = session.execute(
            select(FeedbackEvent.movie_id, FeedbackEvent.kind, FeedbackEvent.value)
            .where(FeedbackEvent.user_id == user_id)
            .order_by(FeedbackEvent.id)
        )
        for movie_id, kind, value in events:
            touched[movie_id] = value if kind == "rating" else touched.get(movie_id)
    return touched


def _disliked(app: Flask, user_id: int) -> set[int]:
    with _services(app).db.session() as session:
        rows = session.execute(
            select(FeedbackEvent.movie_id).where(FeedbackEvent.user_id == user_id, FeedbackEvent.kind == "dislike")
        )
        return set(rows.scalars())


def _title_ids(app: Flask) -> dict[str, int]:
    return {m.title: m.movie_id for m in _services(app).catalogue.movies.values()}


def _cited(reason: dict[str, Any] | None) -> int | None:
    """The film a reason cites ("Because you liked X"), if any: reasons travel as data."""
    return None if reason is None else reason["source_movie_id"]


def _page_ids(home: dict[str, Any]) -> list[int]:
    return [i["movie"]["movie_id"] for row in home["rows"] if not row["history"] for i in row["items"]]


# --- one exclusion rule ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("user_id", USERS[:12])
def test_home_shows_no_film_the_user_touched_and_no_film_twice(app: Flask, client: FlaskClient, user_id: int) -> None:
    home = _ok(client, f"/api/users/{user_id}/home")
    touched = _touched(app, user_id)
    shown = _page_ids(home)
    assert shown, "the home page is empty"
    assert [m for m in shown if m in touched] == []
    assert len(shown) == len(set(shown)), "a film appears twice on the page"
    assert home["excluded"] == len(touched)
    history = next(row for row in home["rows"] if row["history"])
    assert history["id"] == "recent" and {i["movie"]["movie_id"] for i in history["items"]} <= set(touched)


def test_popular_and_similar_for_a_user_leave_out_their_films(app: Flask, client: FlaskClient) -> None:
    user_id = 13  # rated several of the slice's most popular films
    touched = _touched(app, user_id)
    anyone = [m["movie_id"] for m in _ok(client, "/api/movies/popular?k=20")]
    assert set(anyone) & set(touched), "choose a user who rated popular films: the test would prove nothing"
    mine = [m["movie_id"] for m in _ok(client, f"/api/movies/popular?k=20&user_id={user_id}")]
    assert len(mine) == 20 and not set(mine) & set(touched)
    genre = _ok(client, f"/api/movies/popular?k=10&genre=Drama&user_id={user_id}")
    assert genre and all("Drama" in m["genres"] and m["movie_id"] not in touched for m in genre)

    seed = anyone[0]
    plain = _ok(client, f"/api/movies/{seed}/similar?k=30")
    assert {i["movie"]["movie_id"] for i in plain["collaborative"] + plain["content"]} & set(touched)
    similar = _ok(client, f"/api/movies/{seed}/similar?k=12&user_id={user_id}")
    for kind in ("collaborative", "content"):
        ids = [i["movie"]["movie_id"] for i in similar[kind]]
        assert len(ids) == 12 and not set(ids) & set(touched)
        assert [i["rank"] for i in similar[kind]] == list(range(1, 13))


# --- negative feedback is negative ---------------------------------------------------------------------------------


def test_reasons_and_seeds_never_cite_a_low_rating_or_a_dislike(app: Flask, client: FlaskClient) -> None:
    titles = _title_ids(app)
    cited = 0
    for user_id in USERS:
        touched, disliked = _touched(app, user_id), _disliked(app, user_id)
        lists = [
            _ok(client, f"/api/recommendations?user_id={user_id}&model={model}&k=20")["items"]
            for model in ("hybrid", "ease")
        ]
        home = _ok(client, f"/api/users/{user_id}/home")
        lists += [row["items"] for row in home["rows"] if not row["history"]]
        for items in lists:
            for item in items:
                film = _cited(item["reason"])
                if film is None:
                    continue
                cited += 1
                assert film not in disliked, f"user {user_id}: {item['reason']!r} cites a disliked film"
                rating = touched.get(film)
                assert rating is None or rating >= 4, f"user {user_id}: {item['reason']!r} cites a {rating}★ film"
        row = next(r for r in home["rows"] if r["id"] == "because-liked")
        if row["items"]:
            seed = titles[row["title"].removeprefix("Because you liked ")]
            assert seed not in disliked and (touched.get(seed) or 5) >= 4
    assert cited > 100, "too few reasons name a film to check the rule"


def test_a_dislike_takes_a_film_out_of_every_reason_and_seed(app: Flask, client: FlaskClient) -> None:
    user_id = 21
    titles = _title_ids(app)
    home = _ok(client, f"/api/users/{user_id}/home")
    row = next(r for r in home["rows"] if r["id"] == "because-liked")
    seed = titles[row["title"].removeprefix("Because you liked ")]
    dislike = {"user_id": user_id, "movie_id": seed, "kind": "dislike"}
    assert client.post("/api/feedback", json=dislike).status_code == 201
    after = _ok(client, f"/api/users/{user_id}/home")
    row = next(r for r in after["rows"] if r["id"] == "because-liked")
    assert row["title"] != f"Because you liked {_services(app).catalogue.movies[seed].title}"
    reasons = [i["reason"] for r in after["rows"] for i in r["items"] if not r["history"]]
    assert all(_cited(reason) != seed for reason in reasons)


# --- marks: one event each, toggled off, "not interested" hides -------------------------------------------------


def test_the_same_mark_twice_is_one_event_and_it_toggles_off(app: Flask, client: FlaskClient) -> None:
    user_id, before = 22, _ok(client, "/api/users/22/home")
    movie_id = before["rows"][0]["items"][0]["movie"]["movie_id"]
    body = {"user_id": user_id, "movie_id": movie_id, "kind": "like"}
    first, second = client.post("/api/feedback", json=body), client.post("/api/feedback", json=body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.get_json()["data"]["id"] == second.get_json()["data"]["id"]
    events = [e for e in _ok(client, f"/api/users/{user_id}/feedback") if e["movie_id"] == movie_id]
    assert [e["kind"] for e in events] == ["like"]
    assert _ok(client, f"/api/users/{user_id}")["like_count"] == 1
    recent = [h["movie"]["movie_id"] for h in _ok(client, f"/api/users/{user_id}")["recent"]]
    assert recent.count(movie_id) == 1
    assert movie_id not in _page_ids(_ok(client, f"/api/users/{user_id}/home"))
    assert _ok(client, f"/api/users/{user_id}/movies/{movie_id}")["liked"] is True

    removed = client.delete(f"/api/feedback?user_id={user_id}&movie_id={movie_id}&kind=like")
    assert removed.status_code == 200 and removed.get_json()["data"]["removed"] == 1
    assert _ok(client, f"/api/users/{user_id}")["like_count"] == 0
    assert _ok(client, f"/api/users/{user_id}/movies/{movie_id}")["liked"] is False
    # Back to the state before the like, so back to that page (the feedback version says so too).
    assert _ok(client, f"/api/users/{user_id}/home") == before
    again = client.delete(f"/api/feedback?user_id={user_id}&movie_id={movie_id}&kind=like")
    assert again.get_json()["data"]["removed"] == 0

    # Watched toggles the same way; a like then a dislike leaves only the dislike.
    for kind in ("watched", "like", "dislike"):
        assert client.post("/api/feedback", json={**body, "kind": kind}).status_code == 201
    mark = _ok(client, f"/api/users/{user_id}/movies/{movie_id}")
    assert (mark["watched"], mark["liked"], mark["disliked"]) == (True, False, True)
    assert client.delete(f"/api/feedback?user_id={user_id}&movie_id={movie_id}&kind=watched").status_code == 200
    assert _ok(client, f"/api/users/{user_id}/movies/{movie_id}")["watched"] is False


def test_not_interested_hides_a_film_from_every_list(client: FlaskClient) -> None:
    user_id = 23
    top = _ok(client, f"/api/users/{user_id}/home")["rows"][0]["items"][0]["movie"]["movie_id"]
    body = {"user_id": user_id, "movie_id": top, "kind": "dismiss"}
    assert client.post("/api/feedback", json=body).status_code == 201
    assert top not in _page_ids(_ok(client, f"/api/users/{user_id}/home"))
    for model in ("hybrid", "ease", "popularity"):
        items = _ok(client, f"/api/recommendations?user_id={user_id}&model={model}&k=50")["items"]
        assert top not in [i["movie"]["movie_id"] for i in items]
    assert _ok(client, f"/api/users/{user_id}/movies/{top}")["dismissed"] is True
    assert client.delete(f"/api/feedback?user_id={user_id}&movie_id={top}&kind=dismiss").status_code == 200
    assert _ok(client, f"/api/users/{user_id}/movies/{top}")["dismissed"] is False


def test_the_movie_page_mark_has_the_users_oldest_rating(app: Flask, client: FlaskClient) -> None:
    user_id = 24
    with _services(app).db.session() as session:
        oldest, rating = session.execute(
            select(Rating.movie_id, Rating.rating).where(Rating.user_id == user_id).order_by(Rating.seq).limit(1)
        ).one()
    recent = [h["movie"]["movie_id"] for h in _ok(client, f"/api/users/{user_id}")["recent"]]
    assert oldest not in recent, "the oldest rating must lie outside the recent slice for this test to mean much"
    mark = _ok(client, f"/api/users/{user_id}/movies/{oldest}")
    assert (mark["rating"], mark["rating_source"]) == (rating, "dataset")
    assert _ok(client, f"/api/users/{user_id}/movies/{next(iter(_unrated(app, user_id)))}")["rating"] is None
    _ok(client, f"/api/users/99999999/movies/{oldest}", status=404)


def _unrated(app: Flask, user_id: int) -> set[int]:
    return set(_services(app).catalogue.movies) - set(_touched(app, user_id))


# --- rows that differ and say what they are for ------------------------------------------------------------------


def test_rows_say_what_they_are_for_and_which_model_made_them(client: FlaskClient) -> None:
    homes = [_ok(client, f"/api/users/{u}/home") for u in (2, 3)]
    for home in homes:
        ids = [row["id"] for row in home["rows"]]
        assert ids == ["for-you", "up-next", "from-history", "because-liked", "your-genres", "popular", "recent"]
        for row in home["rows"]:
            assert row["title"] and row["purpose"]
            assert row["history"] or row["model"] in {*get_args(ModelName), "content"}
        rows = {row["id"]: row for row in home["rows"]}
        assert [rows[r]["model"] for r in ("for-you", "up-next", "from-history")] == ["hybrid", "sasrec", "bert4rec"]
        # The hybrid's row names the models its learned weights blend, not a fixed list.
        assert (
            rows["for-you"]["purpose"].startswith("Your strongest matches: ")
            and "several" not in rows["for-you"]["purpose"]
        )
        for row in home["rows"]:
            if not row["history"]:
                assert all(i["reason"] and i["reason"]["label"][0].isupper() for i in row["items"]), row["id"]
    popular = [[i["movie"]["movie_id"] for i in {r["id"]: r for r in h["rows"]}["popular"]["items"]] for h in homes]
    assert popular[0] != popular[1], "'Popular' should leave out each user's own films"


def test_the_genre_row_is_the_users_most_distinctive_genre_not_the_most_common(app: Flask, client: FlaskClient) -> None:
    """Drama is the genre of most likings for almost everyone; a person who also liked several horror films
    likes horror far more than most people do, and that is their genre row."""
    catalogue = _services(app).catalogue
    movies, popular = catalogue.movies, catalogue.by_popularity
    drama = [m for m in popular if movies[m].genres == ["Drama"]][:10]
    horror = [m for m in popular if "Horror" in movies[m].genres and "Drama" not in movies[m].genres][:4]
    response = client.post("/api/users", json={"liked_movie_ids": drama + horror})
    assert response.status_code == 201, response.get_data(as_text=True)
    user_id, secret = response.get_json()["data"]["user"]["user_id"], response.get_json()["data"]["secret"]
    liked = Counter(g for m in drama + horror for g in movies[m].genres)
    assert liked.most_common(1)[0][0] == "Drama", "Drama must be the genre of most likings, or this proves nothing"

    home = _ok(client, f"/api/users/{user_id}/home", headers={"Authorization": f"Bearer {secret}"})
    row = {r["id"]: r for r in home["rows"]}["your-genres"]
    assert row["title"] == "Most loved Horror"
    assert row["purpose"].startswith("You like Horror more than most people do")
    assert row["items"] and all("Horror" in i["movie"]["genres"] for i in row["items"])
    assert all(i["reason"]["genre"] == "Horror" for i in row["items"])


def test_the_genre_row_follows_the_taste_the_profile_shows(client: FlaskClient) -> None:
    """One rule for a person's distinctive genre: the genre row names the first genre of the taste their profile
    (and the home page's greeting) shows, so the two never disagree; without one, the genre of most likings."""
    distinctive = 0
    for user_id in range(1, 31):
        traits = _ok(client, f"/api/users/{user_id}")["taste"]
        row = {r["id"]: r for r in _ok(client, f"/api/users/{user_id}/home")["rows"]}["your-genres"]
        first = next((t for t in traits if t["kind"] == "genre"), None)
        if first is None:
            assert row["title"].startswith("Most rated "), (user_id, row["title"])
            continue
        distinctive += 1
        assert row["title"] == f"Most loved {first['name']}", (user_id, traits)
        assert f"({first['count']} films you liked)" in row["purpose"]
    assert distinctive >= 10, "too few users with a distinctive genre for this to prove anything"


def test_a_user_with_no_likings_keeps_the_genre_rows_invitation(client: FlaskClient) -> None:
    response = client.post("/api/users", json={"liked_movie_ids": [30, 31, 32]})
    data = response.get_json()["data"]
    user_id, headers = data["user"]["user_id"], {"Authorization": f"Bearer {data['secret']}"}
    for movie_id in (30, 31, 32):
        client.delete(f"/api/feedback?user_id={user_id}&movie_id={movie_id}&kind=like", headers=headers)
    row = {r["id"]: r for r in _ok(client, f"/api/users/{user_id}/home", headers=headers)["rows"]}["your-genres"]
    assert (row["title"], row["items"]) == ("Your genre", [])


def test_a_missing_model_falls_back_along_the_chain(app: Flask, client: FlaskClient, monkeypatch: Any) -> None:
    models = _services(app).models
    monkeypatch.delitem(models.models, "hybrid")
    monkeypatch.delitem(models.versions, "hybrid")
    home = _ok(client, "/api/users/25/home")
    row = home["rows"][0]
    assert (row["id"], row["model"], row["requested_model"]) == ("for-you", "two_tower", "hybrid")
    assert FALLBACK_NOTE in row["purpose"] and row["items"]


def test_home_of_an_unknown_user_is_404(client: FlaskClient) -> None:
    _ok(client, "/api/users/99999999/home", status=404)


# --- dislikes: out of the model input, their neighbours pushed down at once ---------------------------------------


def _genre_films(app: Flask, genre: str, exclude: str | None = None) -> list[int]:
    """Films of `genre` (and not of `exclude`), most rated first."""
    catalogue = _services(app).catalogue
    return [
        m
        for m in catalogue.by_popularity
        if genre in catalogue.movies[m].genres and (exclude is None or exclude not in catalogue.movies[m].genres)
    ]


def test_a_new_profile_that_rates_horror_1_star_gets_no_horror_pushed_at_it(app: Flask, client: FlaskClient) -> None:
    """Likes three children's films, then rates five horror films 1★: the horror films are not what the models read,
    the films nearest them sink below the rest in every row, no top pick is a horror film, and Horror is not said
    to stand out in the person's taste."""
    family = _genre_films(app, "Children's", exclude="Horror")[:3]
    horror = _genre_films(app, "Horror")[:5]
    response = client.post("/api/users", json={"liked_movie_ids": family})
    assert response.status_code == 201, response.get_data(as_text=True)
    user_id = response.get_json()["data"]["user"]["user_id"]
    owner = {"Authorization": f"Bearer {response.get_json()['data']['secret']}"}
    for movie_id in horror:
        body = {"user_id": user_id, "movie_id": movie_id, "kind": "rating", "value": 1.0}
        assert client.post("/api/feedback", json=body, headers=owner).status_code == 201

    services = _services(app)
    with services.db.session() as session:
        view = UserView.read(session, user_id, services.recommendations.space)
    assert not set(horror) & set(view.history), "a 1★ rating must not be model input"
    assert set(horror) <= view.excluded and len(view.avoided) > len(horror)

    home = _ok(client, f"/api/users/{user_id}/home", headers=owner)
    horror_films = set(_genre_films(app, "Horror"))
    top_picks = [i["movie"]["movie_id"] for i in next(r for r in home["rows"] if r["id"] == "for-you")["items"]]
    assert top_picks and not set(top_picks) & horror_films
    for row in home["rows"]:
        if row["history"] or row["id"] == "popular":
            continue
        shown = [i["movie"]["movie_id"] for i in row["items"]]
        # Pushed down: a film near a dislike only ever comes after every other film of its row.
        near = [m in view.avoided for m in shown]
        assert near == sorted(near), f"row {row['id']}: a film near a dislike comes before another film"
    taste = [t["name"] for t in _ok(client, f"/api/users/{user_id}", headers=owner)["taste"]]
    assert "Horror" not in taste


def test_clearing_a_rating_restores_the_earlier_recommendations_exactly(app: Flask, client: FlaskClient) -> None:
    user_id = 26
    before = _ok(client, f"/api/users/{user_id}/home")
    for_you = _ok(client, f"/api/recommendations?user_id={user_id}&k=20")
    movie_id = before["rows"][0]["items"][0]["movie"]["movie_id"]
    body = {"user_id": user_id, "movie_id": movie_id, "kind": "rating", "value": 1.0}
    assert client.post("/api/feedback", json=body).status_code == 201
    assert _ok(client, f"/api/users/{user_id}/home") != before
    removed = client.delete(f"/api/feedback?user_id={user_id}&movie_id={movie_id}&kind=rating")
    assert removed.status_code == 200 and removed.get_json()["data"]["removed"] == 1
    assert _ok(client, f"/api/users/{user_id}/home") == before
    assert _ok(client, f"/api/recommendations?user_id={user_id}&k=20")["items"] == for_you["items"]


@pytest.mark.parametrize("value", [0.0, 0.3, 5.5, 4.25, -1])
def test_a_rating_off_the_half_star_scale_is_refused_with_the_allowed_values(client: FlaskClient, value: float) -> None:
    body = {"user_id": 27, "movie_id": 1, "kind": "rating", "value": value}
    response = client.post("/api/feedback", json=body)
    assert response.status_code == 400
    message = response.get_json()["error"]["message"]
    assert "value: value error, a rating is 0.5 to 5 stars in half stars (0.5, 1, 1.5, ..., 4.5, 5)" in message


# --- reasons that are true ---------------------------------------------------------------------------------------


def test_a_cited_film_is_a_liked_one_that_drives_the_score_and_none_dominates(app: Flask, client: FlaskClient) -> None:
    """For 10 seeded-random MovieLens users: each "Because you liked X" on the home page cites a film the person liked
    whose removal from the model's input lowers the pick's score more than removing any other of their latest liked
    films (as the explainer scores them), and no film is cited by more than a third of a page's reasons."""
    services = _services(app)
    checked = 0
    for user_id in random.Random(0).sample(range(1, 301), 10):
        home = _ok(client, f"/api/users/{user_id}/home")
        with services.db.session() as session:
            view = UserView.read(session, user_id, services.recommendations.space)
        history = view.history[-services.config.history_limit :]
        candidates = [m for m in dict.fromkeys(reversed(view.liked)) if m in history][: Explainer.CANDIDATES]
        cited: list[int] = []
        reasons = 0
        for row in home["rows"]:
            if row["history"]:
                continue
            reasons += sum(i["reason"] is not None for i in row["items"])
            model = services.models.models.get(row["model"]) if row["model"] else None
            for item in row["items"]:
                film = _cited(item["reason"])
                if film is None:
                    continue
                cited.append(film)
                assert item["reason"]["kind"] == "liked_film" and film in view.liked
                assert model is not None and model.id_map is not None
                pick = model.id_map.item_index(item["movie"]["movie_id"])
                rows = [model.id_map.items_to_indices(history)]
                rows += [model.id_map.items_to_indices(m for m in history if m != c) for c in candidates]
                scores = model.score_batch(rows)
                drops = dict(zip(candidates, scores[0, pick] - scores[1:, pick], strict=True))
                assert drops[film] == pytest.approx(max(drops.values())), f"{film} does not drive {item['movie']}"
        if len(set(view.liked)) >= 5 and cited:
            assert max(Counter(cited).values()) <= reasons / 3, f"user {user_id}: one film dominates the reasons"
        checked += len(cited)
    assert checked >= 10, f"only {checked} reasons cited a film: too few to check the rule"


def test_no_film_explains_more_than_a_third_of_a_rows_picks(app: Flask, client: FlaskClient) -> None:
    """The cap holds per row as the person sees it: a lower model row is ranked past the films the rows above claim,
    and its reasons are counted over the 12 films it shows (it once capped a third of the longer list it ranked, so
    one film explained 5 of the 12 picks of MovieLens user 600's "Up next" row)."""
    services = _services(app)
    checked = 0
    for user_id in USERS:
        with services.db.session() as session:
            liked = set(UserView.read(session, user_id, services.recommendations.space).liked)
        if len(liked) < 5:
            continue
        home = _ok(client, f"/api/users/{user_id}/home")
        for row in home["rows"]:
            cited = Counter(f for i in row["items"] if (f := _cited(i["reason"])) is not None)
            if not cited or row["history"]:
                continue
            film, times = cited.most_common(1)[0]
            assert times <= len(row["items"]) / 3, f"user {user_id}, row {row['id']}: {film} explains {times} picks"
            checked += 1
    assert checked >= 20, f"only {checked} rows cited a film: too few to check the rule"
