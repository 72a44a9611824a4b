"""The application factory: `create_app()` loads every artefact once into services and wires the blueprints.

    app = create_app()                      # params.yaml + environment, artefacts from the pipeline's outputs
    app = create_app(settings, params)      # tests: a temporary database and artefact folders

Requests never read artefacts from disk; they read the database (history, feedback) and the in-memory services.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Response, g, redirect, url_for
from flask.json.provider import DefaultJSONProvider
from flask_openapi3 import Info, OpenAPI
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter
from werkzeug.wrappers import Response as WerkzeugResponse

from movie_genie.api.config import ServingConfig
from movie_genie.api.errors import register_error_handlers, validation_error_response
from movie_genie.api.metrics import init_metrics
from movie_genie.api.ownership import SECURITY_SCHEMES, init_ownership
from movie_genie.api.rate_limits import init_rate_limits
from movie_genie.api.routes import BLUEPRINTS
from movie_genie.api.schemas import ErrorResponse
from movie_genie.api.security import DOCS_PREFIX, csp_nonce, init_security
from movie_genie.api.services import EXTENSION_KEY, Services
from movie_genie.api.web import init_web
from movie_genie.config import Layout, Params, Settings, load_params

API_TITLE = "Movie Genie API"
API_VERSION = "1.0.0"

# Swagger UI from the assets bundled in flask-openapi3-swagger (no CDN), with a CSP nonce on the inline bootstrap
# script and style, and the online validator badge switched off (it would call a third-party host).
_SWAGGER_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<title>Movie Genie API docs</title>
<link rel="icon" href="swagger/images/swagger.svg">
<link rel="stylesheet" type="text/css" href="swagger/css/swagger-ui.css">
<style nonce="{{ csp_nonce() }}">html{box-sizing:border-box;overflow-y:scroll}*,*:before,*:after{box-sizing:inherit}
body{margin:0;background:#fafafa}</style>
</head>
<body>
<div id="swagger-ui"></div>
<script src="swagger/js/swagger-ui-bundle.js"></script>
<script src="swagger/js/swagger-ui-standalone-preset.js"></script>
<script nonce="{{ csp_nonce() }}">
window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: new URL("{{ doc_url }}", window.location.href).href,
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout"
  });
};
</script>
</body>
</html>
"""


class _JsonProvider(DefaultJSONProvider):
    """Flask's JSON, except that a body nested too deeply for the parser is a 400, not a RecursionError (500)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse JSON; too deep a nesting raises BadRequest (request bodies are the only JSON parsed here)."""
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise BadRequest("the JSON body is nested too deeply: send a flat object as the spec shows") from None


class _PathInteger(IntegerConverter):
    """Flask's `<int:...>`, whose pattern (\\d+) matches any script's digits: a path integer in digits other than
    ASCII ("/api/users/١") reaches the path model as text, which refuses it with a 400 naming the parameter (the
    one rule, schemas._Strict), instead of meaning user 1."""

    def to_python(self, value: str) -> Any:
        """ASCII digits as an int; anything else as it came, for the path model to refuse."""
        return super().to_python(value) if value.isascii() else value


def _make_app(settings: Settings, config: ServingConfig) -> OpenAPI:
    """The Flask app with routes, docs, errors, security and metrics, but no services (used for the spec too)."""
    app = OpenAPI(
        __name__,
        info=Info(
            title=API_TITLE,
            version=API_VERSION,
            description=(
                "Recommendations, search and feedback over MovieLens. Success bodies are "
                '`{"data": ..., "meta": {...}}`; errors are `{"error": {"code", "message", "details"}}`.'
            ),
        ),
        doc_prefix=DOCS_PREFIX,
        doc_url="/openapi.json",
        validation_error_status=400,
        validation_error_model=ErrorResponse,
        validation_error_callback=validation_error_response,
        responses={400: ErrorResponse, 429: ErrorResponse, 500: ErrorResponse},
        security_schemes=SECURITY_SCHEMES,
    )
    app.config.update(
        SWAGGER_HTML_STRING=_SWAGGER_HTML,
        JSON_SORT_KEYS=False,
        # Never debug mode or exception propagation in production: errors become JSON bodies.
        DEBUG=False,
        PROPAGATE_EXCEPTIONS=False,
    )
    app.json = _JsonProvider(app)
    app.json.sort_keys = False
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    init_metrics(app)
    init_security(app, settings, config)
    init_rate_limits(app, settings, config)
    register_error_handlers(app)
    init_ownership(app, settings)
    app.url_map.converters["int"] = _PathInteger  # before the routes: each rule takes its converter when added
    for blueprint in BLUEPRINTS:
        app.register_api(blueprint)

    # The spec and the docs at the short, documented paths.
    app.add_url_rule("/api/openapi.json", endpoint="openapi_json", view_func=lambda: app.api_doc)
    app.view_functions["openapi.openapi"] = _docs_redirect
    app.add_url_rule(DOCS_PREFIX, endpoint="docs", view_func=_docs_redirect)

    init_web(app, config.web_dist)
    return app


def _docs_redirect() -> WerkzeugResponse:
    return redirect(url_for("swagger.swagger"))


def create_app(
    settings: Settings | None = None,
    params: Params | None = None,
    *,
    services: Services | None = None,
) -> OpenAPI:
    """Build the app and load every artefact once (database, models, search index, evaluation report)."""
    params = params or load_params()
    layout = Layout.from_params(params)
    settings = settings or Settings.from_env(layout.data_dir)
    config = ServingConfig.from_params(params)
    app = _make_app(settings, config)
    app.extensions[EXTENSION_KEY] = services or Services.load(settings, params, layout, config)
    # An opaque id of this process (not its pid): shows which worker answered, e.g. when checking that every
    # worker sees the same feedback.
    instance = secrets.token_hex(4)

    @app.after_request
    def _tag_instance(response: Response) -> Response:
        response.headers["X-Instance"] = instance
        if "request_id" in g:  # a request that logged impressions: the id they carry
            response.headers["X-Request-Id"] = g.request_id
        return response

    return app


def openapi_spec() -> dict[str, Any]:
    """The OpenAPI 3 document, built without loading any artefact."""
    settings = Settings(database_url="sqlite://", redis_url=None, tmdb_api_key=None, cors_origins=())
    return _make_app(settings, ServingConfig(web_dist=Path("web/dist"))).api_doc
