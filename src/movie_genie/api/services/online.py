"""Online evaluation at serve time: the experiment a user is in and the list it serves them (A/B: the variant's
model; interleaving: team draft of both rankers), the impression of each served list, clicks and marks attributed
to the impression that showed the film, and each experiment's report (online/experiments.py)."""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from movie_genie.api import schemas as s
from movie_genie.api.config import ServingConfig
from movie_genie.api.errors import ResourceNotFoundError
from movie_genie.api.services.database import Database
from movie_genie.api.services.loaded_models import LoadedModels
from movie_genie.api.services.recommendations import RECOMMENDATIONS_LIST, RecommendationService
from movie_genie.api.services.search import SEARCH_LIST
from movie_genie.api.services.served import Served
from movie_genie.db import impressions as impr
from movie_genie.db.models import utcnow
from movie_genie.online.experiments import Experiment, OnlineReport, assign, online_report, team_draft
from movie_genie.online.impressions import ImpressionLog

log = logging.getLogger(__name__)


class OnlineService:
    """Experiments, impressions, clicks and attribution, and the online report."""

    def __init__(
        self,
        db: Database,
        models: LoadedModels,
        recommendations: RecommendationService,
        impressions: ImpressionLog,
        experiments: Sequence[Experiment],
        config: ServingConfig,
    ) -> None:
        self.db, self.models, self.recommendations, self.impressions = db, models, recommendations, impressions
        self.experiments: dict[str, Experiment] = {}
        self.use_experiments(experiments)
        self.config = config
        # Team draft's coin flips: None (serving) takes a fresh unseeded coin per list; the simulator
        # (online/simulator.py) sets a seeded one so that a run is reproducible.
        self.coin: random.Random | None = None

    def use_experiments(self, experiments: Sequence[Experiment]) -> None:
        """Run these experiments from now on (params.yaml's and serving.json's; one dict swap)."""
        self.experiments = {e.name: e for e in experiments}

    def choose(self, user_id: int) -> tuple[Experiment, str] | None:
        """The first running experiment that enrols the user, with their variant; experiments whose models are not
        both loaded are skipped (their users get the default model, and no impression is credited to them)."""
        for experiment in self.experiments.values():
            if not experiment.active() or any(v not in self.models.models for v in experiment.variants):
                continue
            variant = assign(experiment, user_id)
            if variant is not None:
                return experiment, variant
        return None

    def recommend(self, user_id: int, model: str | None, k: int) -> tuple[bytes | s.Recommendations, dict[str, Any]]:
        """GET /api/recommendations: the named model's list, or (none named) the user's experiment variant's, or the
        default; the served list is logged as an impression whose id the meta carries."""
        chosen = self.choose(user_id) if model is None else None
        if chosen is not None and chosen[0].design == "interleaving":
            return self._interleaved(user_id, chosen[0], k)
        experiment, variant = chosen if chosen is not None else (None, None)
        served = self.recommendations.recommend(user_id, variant if experiment else model, k)
        meta = {**served.meta, "cached": served.cached}
        meta["impression_id"] = self.impressions.record(
            user_id,
            "recommendations",
            served.lists[RECOMMENDATIONS_LIST].movie_ids,
            model=meta["model"],
            model_version=meta["model_version"],
            experiment=experiment.name if experiment else None,
            variant=variant,
        )
        meta.update(experiment=experiment.name if experiment else None, variant=variant)
        return served.body, meta

    def _interleaved(self, user_id: int, experiment: Experiment, k: int) -> tuple[s.Recommendations, dict[str, Any]]:
        # Each ranker's list computed afresh (the merged list is new anyway), so nothing is read back from bytes.
        loaded = self.models.snapshot()
        lists, history_size = [], 0
        for name in experiment.variants:
            ranked, history_size = self.recommendations.fresh(user_id, name, k, self.models.get(name, loaded))
            lists.append(ranked)
        # A fresh coin for each list (team draft's ties): the teams are stored with the impression, so credit
        # needs no replay.
        merged = team_draft(
            [i.movie.movie_id for i in lists[0].items],
            [i.movie.movie_id for i in lists[1].items],
            k,
            experiment.variants,
            self.coin or random.Random(),
        )
        # Each film as its own team's model ranked and explained it, at its position in the merged list.
        by_team = {
            team: {i.movie.movie_id: i for i in ranked.items}
            for team, ranked in zip(experiment.variants, lists, strict=True)
        }
        items = [
            by_team[team][movie_id].model_copy(update={"rank": position})
            for position, (movie_id, team) in enumerate(merged, start=1)
        ]
        name = "+".join(experiment.variants)
        versions = [loaded.versions.get(v) or "?" for v in experiment.variants]
        data = s.Recommendations(user_id=user_id, model=name, items=items)
        impression_id = self.impressions.record(
            user_id,
            "recommendations",
            [m for m, _ in merged],
            model=name,
            model_version="+".join(versions),
            teams=[t for _, t in merged],
            experiment=experiment.name,
            variant="interleaved",
        )
        meta = {
            "model": name,
            "requested_model": None,
            "model_version": "+".join(versions),
            "k": k,
            "history_size": history_size,
            "cached": False,
            "impression_id": impression_id,
            "experiment": experiment.name,
            "variant": "interleaved",
        }
        return data, meta

    def log_lists(self, user_id: int | None, surface: str, served: Served) -> dict[str, str]:
        """Log each list of a served answer (a home page's rows, a film's two neighbour lists) as an impression on
        `surface:<list id>`; list id -> impression id. Nothing without a user: no one to credit."""
        if user_id is None or not self.impressions.enabled:
            return {}
        ids: dict[str, str] = {}
        for list_id, shown in served.lists.items():
            impression_id = self.impressions.record(
                user_id,
                f"{surface}:{list_id}",
                shown.movie_ids,
                model=shown.model,
                model_version=self.models.versions.get(shown.model) if shown.model else None,
            )
            if impression_id is not None:
                ids[list_id] = impression_id
        return ids

    def log_search(self, user_id: int | None, served: Served) -> str | None:
        """Log the results of a search a user made as an impression (none without a user: no one to credit)."""
        if user_id is None or not self.impressions.enabled:
            return None
        movie_ids = served.lists[SEARCH_LIST].movie_ids
        return self.impressions.record(user_id, "search", movie_ids, model=None, model_version=None)

    def impression_user(self, impression_id: str) -> int:
        """The user an impression was shown to; 404 when there is none (this worker's queue is written first)."""
        self.impressions.settle()
        with self.db.session() as session:
            user_id = impr.impression_user(session, impression_id)
        if user_id is None:
            raise ResourceNotFoundError(
                f"no impression {impression_id}: send the meta.impression_id of a list this server served",
                code="impression_not_found",
            )
        return user_id

    def click(self, impression_id: str, movie_id: int) -> s.Click:
        """Record that the user opened a film of the impression; 404 when the impression did not show it."""
        with self.db.session() as session:
            shown = impr.find_shown(session, impression_id, movie_id)
            if shown is None:
                raise ResourceNotFoundError(
                    f"impression {impression_id} did not show film {movie_id}: a click names a film of that list",
                    code="movie_not_in_impression",
                )
            event_id = impr.record_event(session, shown, "click")
        return s.Click(
            id=event_id, impression_id=impression_id, movie_id=movie_id, position=shown.position, team=shown.team
        )

    def attribute(self, user_id: int, movie_id: int, kind: str, value: float | None, impression_id: str | None) -> None:
        """Credit a new mark to the impression that showed the film: the one named (when it is the user's and showed
        the film), else the user's newest one within serving.attribution_window_h; none: nothing. A failure is
        logged: the mark itself is stored already."""
        try:
            self.impressions.settle()
            since = utcnow() - timedelta(hours=self.config.attribution_window_h)
            with self.db.session() as session:
                shown = impr.find_shown(session, impression_id, movie_id) if impression_id else None
                if shown is None or shown.user_id != user_id:
                    shown = impr.latest_shown(session, user_id, movie_id, since)
                if shown is not None:
                    impr.record_event(session, shown, kind, value)
        except Exception:
            log.exception("attributing %s of film %d by user %d failed", kind, movie_id, user_id)

    def reports(self) -> list[OnlineReport]:
        """Every experiment's online report."""
        return [self.report(name) for name in list(self.experiments)]

    def report(self, name: str) -> OnlineReport:
        """The online report of an experiment; 404 for a name neither params.yaml nor serving.json defines."""
        experiment = self.experiments.get(name)
        if experiment is None:
            known = ", ".join(self.experiments) or "none are defined"
            raise ResourceNotFoundError(
                f"no experiment {name!r} in params.yaml `experiments` or started at run time ({known})",
                code="experiment_not_found",
            )
        with self.db.session() as session:
            outcomes = impr.experiment_outcomes(session, name)
        return online_report(experiment, outcomes)
