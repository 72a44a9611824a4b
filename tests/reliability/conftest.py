"""The reliability suite (issue 31): each module reproduces defects found by a probe of hostile requests and fails
on the code that had them.

- integrity: test_artefact_integrity (damaged checkpoints, indexes, embeddings), test_database_integrity (a damaged
  SQLite file);
- limits: test_rate_limits (one count for all workers, no failing open, counters apart from the cache, reads and
  searches limited), test_nginx_limits (the front door against slow and greedy clients);
- privacy: test_privacy (private profiles, replays never mint a secret), test_profile_ids (no guessable ids),
  test_idempotency_callers (a key replays only to its caller);
- health: test_health (liveness and readiness along the fallback chains, no internal paths);
- contract: test_contract (ASCII digits, no control or bidirectional characters in names);
- deployment: tests/deploy/test_hardening.py and test_tls.py check the compose files and the TLS front door.

Fixtures: the API suite's `app` (on the session's real artefacts, errors through the JSON handlers, responses
checked against their schemas) and its test `client`, found here by pytest."""

from __future__ import annotations

from tests.api.conftest import app, client

__all__ = ["app", "client"]
