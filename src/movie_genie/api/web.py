"""Serve the built web app (web/dist) at / on the same port as the API; client-side routes get index.html.

Routes the API does not know fall through to `serve_spa_path` from the 404 handler, so the SPA never shadows an
API path: anything under /api/ or /metrics that does not exist stays a JSON 404.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Response, current_app, send_from_directory
from werkzeug.security import safe_join

# Shown when the web app has not been built yet: the API still works, and this says how to get the UI.
_NOT_BUILT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Movie Genie</title></head>
<body>
<h1>Movie Genie API is running</h1>
<p>The web app has not been built yet (no <code>{dist}/index.html</code>). Build it with</p>
<pre>make web      # or: cd web &amp;&amp; npm ci &amp;&amp; npm run build</pre>
<p>and reload this page. Meanwhile the API is at <a href="/api/docs">/api/docs</a>.</p>
</body></html>
"""

_API_PREFIXES = ("/api/", "/api", "/metrics")


def is_api_path(path: str) -> bool:
    """Whether a request path belongs to the API (never answered with the SPA)."""
    return path == "/api" or path.startswith(_API_PREFIXES)


def _dist() -> Path:
    return Path(current_app.config["WEB_DIST"])


def _index() -> Response:
    dist = _dist()
    if not (dist / "index.html").is_file():
        return Response(_NOT_BUILT_PAGE.format(dist=dist), mimetype="text/html")
    response = send_from_directory(dist.resolve(), "index.html", max_age=0)
    # index.html names the hashed bundles, so it must be revalidated on every load.
    response.headers["Cache-Control"] = "no-cache"
    return response


def serve_spa_path(path: str) -> Response:
    """A file of the build (hashed assets cached for a year) or index.html for a client-side route."""
    dist = _dist()
    relative = path.lstrip("/")
    candidate = safe_join(str(dist), relative) if relative else None
    if candidate is not None and Path(candidate).is_file():
        response = send_from_directory(dist.resolve(), relative)
        if relative.startswith("assets/"):
            # Vite names bundles by content hash: a changed file gets a new name, so they never go stale.
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        else:
            # Files with fixed names (the service worker sw.js, the app manifest, icons) keep their name across
            # builds: revalidated on every use, so a phone learns of a new build at its next start.
            response.headers["Cache-Control"] = "no-cache"
        return response
    return _index()


def init_web(app: Flask, web_dist: Path) -> None:
    """Serve index.html at / (other paths come through the 404 handler)."""
    app.config["WEB_DIST"] = str(web_dist)
    app.add_url_rule("/", endpoint="web_index", view_func=_index, methods=["GET"])
