"""One blueprint per resource; route functions are verbs and only translate between HTTP and the services."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint

from movie_genie.api.routes.experiments import bp as experiments_bp
from movie_genie.api.routes.feedback import bp as feedback_bp
from movie_genie.api.routes.impressions import bp as impressions_bp
from movie_genie.api.routes.movies import bp as movies_bp
from movie_genie.api.routes.recommendations import bp as recommendations_bp
from movie_genie.api.routes.search import bp as search_bp
from movie_genie.api.routes.sign_in import bp as sign_in_bp
from movie_genie.api.routes.system import bp as system_bp
from movie_genie.api.routes.users import bp as users_bp

BLUEPRINTS: tuple[APIBlueprint, ...] = (
    system_bp,
    users_bp,
    sign_in_bp,
    movies_bp,
    search_bp,
    recommendations_bp,
    feedback_bp,
    impressions_bp,
    experiments_bp,
)
