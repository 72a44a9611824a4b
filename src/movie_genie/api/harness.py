"""The real app in one process for the traffic simulator (online/simulator.py): it drives the app through Flask's
test client and reaches only the few services a simulation must seed, settle or read."""

from __future__ import annotations

import random
from collections.abc import Sequence

from flask.testing import FlaskClient

from movie_genie.api.app import create_app
from movie_genie.api.services import EXTENSION_KEY, Services
from movie_genie.config import Params, Settings
from movie_genie.db.impressions import Outcome, experiment_outcomes


class AppHarness:
    """`online.simulator.AppUnderTest` on the app `movie-genie serve` would build from these settings and params."""

    def __init__(self, settings: Settings, params: Params) -> None:
        self.app = create_app(settings, params)
        self.services: Services = self.app.extensions[EXTENSION_KEY]

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def unavailable(self, names: Sequence[str]) -> str | None:
        loaded = self.services.models
        missing = [name for name in names if name not in loaded.models]
        return "; ".join(f"{m}: {loaded.errors.get(m, 'not loaded')}" for m in missing) or None

    def seed_interleaving(self, seed: int) -> None:
        self.services.online.coin = random.Random(f"team-draft:{seed}")

    def settle(self) -> None:
        self.services.online.impressions.settle()

    def outcomes(self, experiment: str) -> list[Outcome]:
        with self.services.db.session() as session:
            return list(experiment_outcomes(session, experiment))

    def close(self) -> None:
        if self.services.online.impressions.writer is not None:
            self.services.online.impressions.writer.close()
        self.services.db.engine.dispose()
