"""Services: one object per resource, built once at start with everything loaded; routes only call them.

One module per job:

- `database`: the engine, short sessions, and each user's feedback version.
- `catalogue`: every movie's card in memory (read once), genre counts, the popularity order; metadata counts.
- `loaded_models`: the recommenders loaded through the models registry, their versions and load errors.
- `artefacts`: an artefact file's version (short content hash) and the message for one that failed to load.
- `explanations`: a reason for each recommendation (wording: models/reasons.py).
- `recommendations`: a user's top-k from one model, cached per feedback version.
- `movies`: browse, popular, details, neighbours, genres.
- `users`: the user list, profiles, ratings, similar users, cold-start creation.
- `feedback`: store, take back, read and list marks.
- `search`: the search engine, title suggestions, content neighbours.
- `rows`: response models from the database layer's records (same field names).
- `online`: experiments (A/B, team-draft interleaving), impressions of served lists, clicks and marks credited to
  them, and each experiment's online report (docs/online-evaluation.md).
- `container`: `Services` (all of the above, per process), readiness and the models report.

Live feedback across worker processes: cached answers that depend on a user are keyed by the user's *feedback
version* — the id of their newest feedback event, read from the database (one indexed look-up) on each request.
A POST /api/feedback in any worker bumps it, so every worker's next request misses and recomputes from the
database. Nothing has to be broadcast, and a Redis cache (REDIS_URL) shares the recomputed answers.
"""

from __future__ import annotations

from movie_genie.api.services.catalogue import Catalogue, count_catalogue_metadata
from movie_genie.api.services.container import EXTENSION_KEY, Services, services
from movie_genie.api.services.database import Database
from movie_genie.api.services.explanations import Explainer
from movie_genie.api.services.feedback import FeedbackService
from movie_genie.api.services.loaded_models import SERVED, LoadedModels
from movie_genie.api.services.movies import MovieService
from movie_genie.api.services.online import OnlineService
from movie_genie.api.services.recommendations import RecommendationService
from movie_genie.api.services.search import SearchService
from movie_genie.api.services.users import NEW_USER_NAME, UserService

__all__ = [
    "EXTENSION_KEY",
    "NEW_USER_NAME",
    "SERVED",
    "Catalogue",
    "Database",
    "Explainer",
    "FeedbackService",
    "LoadedModels",
    "MovieService",
    "OnlineService",
    "RecommendationService",
    "SearchService",
    "Services",
    "UserService",
    "count_catalogue_metadata",
    "services",
]
