"""The PostgreSQL server on loopback that the database and deploy tests create their own databases on.

MOVIE_GENIE_TEST_POSTGRES_URL (default: the `postgres` superuser on 127.0.0.1:5432, trust auth) points elsewhere.
A server that cannot be reached FAILS those tests with the command that starts it; they are never skipped.
"""

from __future__ import annotations

import os

import psycopg
import pytest
from sqlalchemy.engine import make_url

POSTGRES_ADMIN_URL = os.environ.get(
    "MOVIE_GENIE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"


def postgres_admin(needed_by: str) -> psycopg.Connection:
    """An autocommit connection to the admin database (CREATE/DROP DATABASE), or fail naming `needed_by`."""
    url = make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql")
    try:
        return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL at {url.render_as_string(hide_password=True)} is not reachable ({exc}). The {needed_by} "
            f"need it: start it with `{START_POSTGRES}`, or point MOVIE_GENIE_TEST_POSTGRES_URL at a server with "
            "trust auth.",
            pytrace=False,
        )
