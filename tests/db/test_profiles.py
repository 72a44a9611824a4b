"""A profile as its owner handles it, on SQLite and PostgreSQL: the picker's word search (ranked by how well a
profile matches), finding a profile by its key's hash, the ratings export and deleting a profile with its rows."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine, inspect, select
from sqlalchemy.orm import Session

from movie_genie.db import profiles, user_search
from movie_genie.db.errors import InvalidInputError, UserNotFoundError
from movie_genie.db.feedback import NO_USER_VERSION, add_feedback, feedback_version, remove_feedback
from movie_genie.db.models import APP_USER_IDS, Impression, Movie, Rating, User
from movie_genie.db.users import create_user, list_users

# Names made by the tests carry no digits: a number in a query also matches the names people gave profiles.
LETTERS = str.maketrans("0123456789", "ghijklmnop")

# --- word search ---------------------------------------------------------------------------------------------


def _expected_order(session: Session, query: str) -> list[int]:
    """The picker's rules, in Python over the stored columns: words matched, name match, taste rank, id; a profile
    made in the app matches by its name and id only."""
    words = user_search.words(query)
    titles = dict(session.execute(select(Movie.movie_id, Movie.title)).all())
    scored = []
    for user in session.execute(select(User)).scalars():
        terms = user.taste_terms or ""
        favourite_titles = [titles[m].lower() for m in user.favourite_movie_ids or [] if m in titles]
        matched, named, rank = 0, False, 10**9
        for word in words:
            name = word in user.display_name.lower() and (not word.isdigit() or user.source == "app")
            # A profile made in the app is found by its name and id only: its taste is its owner's (issue 31).
            public = user.source != "app"
            in_title = public and any(t.startswith(word) or any(b + word in t for b in " (-") for t in favourite_titles)
            positions = [terms.find(b + word) for b in "| -"] if public else []
            ranks = [terms[: p + 1].count("|") for p in positions if p >= 0]
            exact = word.isdigit() and user.user_id == int(word)
            in_occupation = public and word in (user.occupation or "").lower()
            if name or in_title or ranks or exact or in_occupation:
                matched += 1
            named = named or name
            rank = min([rank, *ranks])
        if matched:
            scored.append((-matched, 0 if named else 1, rank, user.user_id))
    return [key[-1] for key in sorted(scored)]


def test_words_are_lower_cased_once_each_without_small_words() -> None:
    assert user_search.words("The  Dark, dark COMEDY!") == ["dark", "comedy"]
    assert user_search.words("the of") == ["the", "of"]  # only small words: they are the query
    assert len(user_search.words(" ".join(f"w{i}" for i in range(20)))) == user_search.MAX_WORDS


def test_a_word_query_ranks_by_words_matched_then_name_then_taste_rank(session: Session) -> None:
    titles = dict(session.execute(select(Movie.movie_id, Movie.title)).all())
    users = session.execute(select(User).where(User.taste_terms != "").order_by(User.user_id)).scalars().all()
    queries = []
    for user in users[:6]:
        term = (user.taste_terms or "").strip("|").split("|")[-1].split()[0]  # their least distinctive trait
        title_words = [w for m in user.favourite_movie_ids or [] for w in titles[m].lower().split() if w.isalpha()]
        word = next((w for w in title_words if len(w) >= 4), None)
        if word is not None:
            queries.append(f"{word} {term}")
    assert len(queries) >= 3, "the slice's users have taste terms and favourites"
    for query in [*queries, "drama comedy", "noir thriller", "film-noir"]:
        page = list_users(session, query=query, per_page=100)
        expected = _expected_order(session, query)
        assert [u.user_id for u in page.items] == expected[:100], query
        assert page.total == len(expected), query
    # Paging follows the same order.
    query = queries[0]
    first, second = (list_users(session, query=query, page=p, per_page=3) for p in (1, 2))
    assert [u.user_id for u in first.items + second.items] == _expected_order(session, query)[:6]


def test_an_app_profile_is_found_by_its_name_never_by_its_taste(session: Session) -> None:
    """An app profile whose taste matched a word used to be found by it (and ranked first with its name): anyone
    could learn what it likes. Now its name counts, its taste not (issue 31); MovieLens profiles match by taste."""
    word = "zq" + uuid.uuid4().hex[:6].translate(LETTERS)
    rows = session.execute(select(Movie.movie_id, Movie.genres)).all()
    horror = [m for m, genres in rows if "Horror" in (genres or [])][:8]
    comedy = [m for m, genres in rows if list(genres or []) == ["Comedy"]][:8]
    name_only = create_user(session, f"{word} one", comedy).user_id
    both = create_user(session, f"{word} two", horror).user_id
    named_both = create_user(session, f"{word} horror", comedy).user_id
    ids = [u.user_id for u in list_users(session, query=f"horror {word}", per_page=100).items]
    # Its name first; the other two match one word each (the taste of `both` adds nothing): by id, which is random.
    assert ids[:3] == [named_both, *sorted([name_only, both])] and len(ids) > 3
    assert ids == _expected_order(session, f"horror {word}")[:100]
    horror_fans = {u.user_id for u in list_users(session, query="horror", per_page=100).items}
    assert named_both in horror_fans and both not in horror_fans


# --- sign in, export, delete ---------------------------------------------------------------------------------


def test_the_secret_hash_finds_the_app_profile_only(session: Session) -> None:
    digest = uuid.uuid4().hex * 2
    user = create_user(session, "Keyed", [1, 2, 3], secret_hash=digest)
    found = profiles.find_by_secret_hash(session, digest)
    assert found is not None and (found.user_id, found.display_name) == (user.user_id, "Keyed")
    assert profiles.find_by_secret_hash(session, uuid.uuid4().hex * 2) is None
    assert profiles.find_by_secret_hash(session, "") is None


def test_the_export_has_each_films_current_rating(session: Session) -> None:
    rated = {m: r for m, r in session.execute(select(Rating.movie_id, Rating.rating).where(Rating.user_id == 2))}
    movie_id = min(rated)
    add_feedback(session, 2, movie_id, "rating", 0.5)
    add_feedback(session, 2, 1682, "rating", 4.5)  # a film the data set has no rating of
    add_feedback(session, 2, 1681, "like")  # a like is no rating
    rows = profiles.export_ratings(session, 2)
    assert [r.movie_id for r in rows] == sorted({*rated, 1682})
    assert {r.movie_id: r.rating for r in rows} == {**rated, movie_id: 0.5, 1682: 4.5}
    assert all(r.user_id == 2 and r.timestamp > 800_000_000 for r in rows)
    remove_feedback(session, 2, movie_id, "rating")
    assert {r.movie_id: r.rating for r in profiles.export_ratings(session, 2)}[movie_id] == rated[movie_id]
    with pytest.raises(UserNotFoundError):
        profiles.export_ratings(session, 10_000_000)


def test_deleting_an_app_profile_removes_its_rows_and_its_id_is_never_reused(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = create_user(session, "Leaving", [1, 2, 3], secret_hash="ab" * 32)
    add_feedback(session, user.user_id, 4, "rating", 4.0)
    session.add(Impression(id=uuid.uuid4().hex, request_id="r", user_id=user.user_id, surface="home", movie_ids=[5]))
    session.commit()
    assert profiles.user_rows(session, user.user_id)["feedback_events"] == 4
    deleted = profiles.delete_app_user(session, user.user_id)
    assert deleted.rows["feedback_events"] == 4 and deleted.rows["impressions"] == 1
    assert set(profiles.user_rows(session, user.user_id).values()) == {0}
    assert profiles.find_by_secret_hash(session, "ab" * 32) is None
    with session.get_bind().connect() as connection:
        assert feedback_version(connection, user.user_id) == NO_USER_VERSION
    # The next draw lands on the deleted id first: it is refused and the draw after it is used.
    draws = iter([user.user_id - APP_USER_IDS.start, 7])
    monkeypatch.setattr(profiles.secrets, "randbelow", lambda _n: next(draws))
    assert create_user(session, "Next").user_id == APP_USER_IDS.start + 7  # not the deleted id
    with pytest.raises(UserNotFoundError):
        profiles.delete_app_user(session, user.user_id)


def test_a_data_set_profile_is_not_deleted(session: Session) -> None:
    before = profiles.user_rows(session, 5)
    with pytest.raises(InvalidInputError, match="data set"):
        profiles.delete_app_user(session, 5)
    assert profiles.user_rows(session, 5) == before and before["ratings"] > 0


def test_the_key_lookup_has_an_index(engine: Engine) -> None:
    indexes = {i["name"]: i["column_names"] for i in inspect(engine).get_indexes("users")}
    assert indexes.get("ix_users_secret_hash") == ["secret_hash"]
