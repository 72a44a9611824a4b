"""Fixtures of the reliability suite: the API suite's `app` (on the session's real artefacts, errors through the
JSON handlers, responses checked against their schemas) and its test `client`, found here by pytest."""

from __future__ import annotations

from tests.api.conftest import app, client

__all__ = ["app", "client"]
