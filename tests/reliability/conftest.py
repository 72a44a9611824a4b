"""Fixtures of the reliability suite: the app on the session's real artefacts and a test client, driven as the API
tests drive them (errors through the JSON handlers, responses checked against their schemas)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.conftest import checked_app
from tests.artefacts import Artefacts


@pytest.fixture(scope="session")
def app(artefacts: Artefacts) -> Flask:
    """The app on the session's artefacts."""
    return checked_app(artefacts.settings(), artefacts.params)


@pytest.fixture()
def client(app: Flask) -> Iterator[FlaskClient]:
    """A test client of `app`."""
    with app.test_client() as test_client:
        yield test_client
