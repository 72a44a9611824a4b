"""A damaged SQLite file (issue 31: reads failed with DatabaseError -> 500, health said ok and writes were
acknowledged into a file that could not give them back), reproduced with real corruption of a copy of the session's
database: the ratings table's root page overwritten with garbage."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from movie_genie.api.app import create_app
from movie_genie.api.services import EXTENSION_KEY, Services
from movie_genie.config import Params
from movie_genie.db.errors import DatabaseUnavailableError
from tests.artefacts import Artefacts


def _damage(path: Path) -> None:
    """Overwrite the ratings table's root page with garbage, as a bad disk or a torn write would leave it."""
    with sqlite3.connect(path) as db:
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        (root,) = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'ratings'").fetchone()
    with path.open("r+b") as file:
        file.seek((root - 1) * page_size)
        file.write(b"\xa5" * page_size)


def _app(artefacts: Artefacts, database: Path, integrity_check_s: float) -> Flask:
    raw = artefacts.params.model_dump(mode="json")
    raw["database"] = {**raw.get("database", {}), "integrity_check_s": integrity_check_s}
    app = create_app(artefacts.settings(database_url=f"sqlite:///{database}"), Params.model_validate(raw))
    app.config["TESTING"] = False
    return app


def _unavailable(response: Any) -> str:
    """A 503 in the JSON envelope, with a message that says what to do and no internal path."""
    assert response.status_code == 503, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "unavailable"
    assert "/tmp" not in error["message"] and "Traceback" not in response.get_data(as_text=True)
    return str(error["message"])


@pytest.fixture()
def running(artefacts: Artefacts, tmp_path: Path) -> Iterator[tuple[FlaskClient, Path, Services]]:
    """An app on a sound copy that would re-check the file only once an hour (damage between two checks)."""
    copy = artefacts.database_copy(tmp_path)
    app = _app(artefacts, copy, integrity_check_s=3600)
    services: Services = app.extensions[EXTENSION_KEY]
    with app.test_client() as client:
        yield client, copy, services
    services.db.engine.dispose()


def test_a_server_does_not_start_on_a_damaged_file_and_says_what_to_do(artefacts: Artefacts, tmp_path: Path) -> None:
    """The catalogue is read from the database at start: a damaged file stops `movie-genie serve` with this message
    (the CLI prints it and exits 2) instead of serving from it."""
    copy = artefacts.database_copy(tmp_path)
    _damage(copy)
    with pytest.raises(DatabaseUnavailableError) as refused:
        _app(artefacts, copy, integrity_check_s=60)
    message = str(refused.value)
    assert "damaged" in message and "restore it from a backup" in message and "movie-genie db load" in message


def test_damage_under_a_running_server_is_a_503_then_reported(running: tuple[FlaskClient, Path, Services]) -> None:
    client, path, services = running
    assert client.get("/api/users/3/ratings").status_code == 200
    assert client.get("/api/health").status_code == 200
    _damage(path)
    services.db.engine.dispose()  # new connections read the damaged pages (an open one may still hold them cached)
    # The first query to meet the damage: a 503 that says so, not a 500 (it was a DatabaseError -> 500).
    assert "could not be read" in _unavailable(client.get("/api/users/3/ratings"))
    # That failure made the server check the file again: health and writes now know it is damaged.
    health = client.get("/api/health")
    assert health.status_code == 503 and not health.get_json()["data"]["checks"]["database"]["ok"]
    _unavailable(client.post("/api/feedback", json={"user_id": 3, "movie_id": 6, "kind": "like"}))


def test_a_sound_file_passes_and_is_checked_again_when_stale(running: tuple[FlaskClient, Path, Services]) -> None:
    """The check is not vacuous: the sound copy passes, and a stale verdict is re-run at the next use."""
    _client, path, services = running
    integrity = services.db.integrity
    assert integrity.problem is None
    _damage(path)
    services.db.engine.dispose()
    integrity.check()  # the verdict is fresh (checked at start, re-checked hourly): the damage is not seen yet
    assert integrity.problem is None
    integrity.suspect()
    with pytest.raises(DatabaseUnavailableError, match="damaged"):
        integrity.check()  # a suspected verdict is stale: the next use re-runs quick_check and refuses
    assert integrity.problem is not None
