"""API fixtures: the app created on the session's real artefact set (built by tests/artefacts.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from movie_genie.api.app import create_app
from movie_genie.config import Params, Settings
from tests.artefacts import Artefacts


def checked_app(settings: Settings, params: Params) -> Flask:
    """The app as the API tests drive it: errors through the JSON handlers, responses validated against their
    declared schemas."""
    application = create_app(settings, params)
    application.config["TESTING"] = False  # errors must go through the JSON handlers, as in production
    application.validate_response = True  # type: ignore[attr-defined]
    return application


@pytest.fixture(scope="session")
def app(artefacts: Artefacts) -> Flask:
    """The app on the session's artefacts."""
    return checked_app(artefacts.settings(), artefacts.params)


@pytest.fixture()
def client(app: Flask) -> Iterator[FlaskClient]:
    """A test client of `app` (the session app, or the one a test module defines instead)."""
    with app.test_client() as test_client:
        yield test_client


@pytest.fixture(scope="session")
def env_without_proxies() -> dict[str, str]:
    """The environment for subprocesses (gunicorn) with the session's database."""
    return {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
