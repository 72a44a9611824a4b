"""Profiles made in the app cannot be found by counting ids (issue 31, part 3, "Privacy").

The defect: app profiles got sequential ids (the highest id + 1), so knowing one's own id told you the ids of the
profiles made just before and after it, and all of them could be walked. Now each gets a random id from about 1.1
billion values above every data set's user ids (db/models.py APP_USER_IDS; the columns stay 32-bit INTEGER on
PostgreSQL), drawn again when taken, and never one a deleted profile had. What a stranger learns from an id that
does exist stays what the earlier privacy fix chose: that the profile exists, its name and since when
(`private: true`), nothing of its taste or activity.
"""

from __future__ import annotations

import itertools

from flask.testing import FlaskClient

from movie_genie.db.models import APP_USER_IDS
from tests.api.helpers import bearer

PRIVATE_FIELDS = ("taste", "favourites", "top_genres", "recent", "recent_genres")


def _sign_up(client: FlaskClient, name: str) -> tuple[int, str]:
    response = client.post("/api/users", json={"liked_movie_ids": [1, 2, 3], "display_name": name})
    assert response.status_code == 201, response.get_data(as_text=True)
    data = response.get_json()["data"]
    return int(data["user"]["user_id"]), str(data["secret"])


def test_profiles_made_in_a_row_do_not_have_adjacent_ids(client: FlaskClient) -> None:
    ids = [_sign_up(client, f"In a row {i}")[0] for i in range(5)]
    assert all(user_id in APP_USER_IDS for user_id in ids), ids
    gaps = [abs(b - a) for a, b in itertools.pairwise(ids)]
    assert min(gaps) > 1_000, ids  # sequential ids used to differ by exactly 1


def test_guessing_ids_around_a_profile_finds_nothing(client: FlaskClient) -> None:
    """The ids next to one's own were the neighbours' profiles; now they are (almost surely) nobody's."""
    user_id, secret = _sign_up(client, "Guessed At")
    found = [
        guess for guess in range(user_id - 40, user_id + 41) if client.get(f"/api/users/{guess}").status_code != 404
    ]
    assert found == [user_id]
    # What a stranger sees of the one that exists: that it exists, nothing of its taste or activity.
    seen = client.get(f"/api/users/{user_id}").get_json()["data"]
    assert seen["private"] is True and seen["display_name"] == "Guessed At"
    assert all(not seen[name] for name in PRIVATE_FIELDS) and seen["rating_count"] == 0
    assert seen["like_count"] == 0  # it liked three films: only its owner sees that
    assert client.get(f"/api/users/{user_id}", headers=bearer(secret)).get_json()["data"]["like_count"] == 3
