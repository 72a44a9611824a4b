"""Security and serving concerns: headers and CSP, CORS, body size, rate limits, JSON errors, docs, metrics, SPA."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from movie_genie.api.app import create_app
from movie_genie.api.services import EXTENSION_KEY


def _app(app: Flask, artefacts: Any, settings: dict[str, Any] | None = None, **serving: Any) -> Flask:
    """Another app on the already-loaded services (cheap), with other settings or serving values."""
    params = artefacts.with_serving(**serving)
    return create_app(artefacts.settings(**(settings or {})), params, services=app.extensions[EXTENSION_KEY])


def test_security_headers_on_api_responses(client: FlaskClient, app: Flask) -> None:
    response = client.get("/api/ping")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "https://image.tmdb.org" in csp  # posters
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Access-Control-Allow-Origin" not in response.headers  # no CORS unless origins are configured
    assert app.debug is False


def test_docs_page_is_offline_and_allowed_by_its_csp(client: FlaskClient) -> None:
    redirect = client.get("/api/docs")
    assert redirect.status_code in (301, 302, 308)
    page = client.get(redirect.headers["Location"], follow_redirects=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    # Every script/style/image is served by us: no CDN.
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not url.startswith(("http:", "https:", "//")), url
    nonce = re.search(r"'nonce-([^']+)'", page.headers["Content-Security-Policy"])
    assert nonce is not None
    assert html.count(f'nonce="{nonce.group(1)}"') == 2  # the inline bootstrap script and style
    base = page.request.path.rsplit("/", 1)[0]
    for asset in re.findall(r'(?:src|href)="(swagger/[^"]+)"', html):
        assert client.get(f"{base}/{asset}").status_code == 200, asset
    assert client.get("/api/openapi.json").get_json()["info"]["title"] == "Movie Genie API"


def test_cors_only_for_configured_origins(app: Flask, artefacts: Any) -> None:
    allowed = "http://localhost:5173"
    client = _app(app, artefacts, {"cors_origins": (allowed,)}).test_client()
    preflight = client.options("/api/feedback", headers={"Origin": allowed, "Access-Control-Request-Method": "POST"})
    assert preflight.headers.get("Access-Control-Allow-Origin") == allowed
    # A sign-up's retry headers must pass the preflight, or a cross-origin app could never replay one.
    sign_up = client.options(
        "/api/users",
        headers={
            "Origin": allowed,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, idempotency-key, client-token",
        },
    )
    allowed_headers = sign_up.headers.get("Access-Control-Allow-Headers", "").lower()
    assert {"idempotency-key", "client-token"} <= {h.strip() for h in allowed_headers.split(",")}
    other = client.get("/api/ping", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_large_bodies_get_413(client: FlaskClient) -> None:
    response = client.post("/api/feedback", data=b"x" * 70_000, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_rate_limit_answers_429_json(app: Flask, artefacts: Any) -> None:
    client = _app(app, artefacts, rate_limit="3 per minute").test_client()
    statuses = [client.get("/api/genres").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get("/api/genres")
    assert limited.get_json()["error"]["code"] == "rate_limited"
    assert "Retry-After" in limited.headers
    assert client.get("/api/ping").status_code == 200  # monitoring is never limited


def test_unexpected_errors_are_json_500_without_traceback(app: Flask, artefacts: Any) -> None:
    broken = _app(app, artefacts)

    @broken.get("/api/_boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    response = broken.test_client().get("/api/_boom")
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "internal_error"
    assert "secret internals" not in text and "Traceback" not in text


def test_metrics_endpoint(client: FlaskClient) -> None:
    client.get("/api/recommendations?user_id=4&model=popularity&k=3")
    client.get("/api/recommendations?user_id=4&model=popularity&k=3")
    client.post("/api/feedback", json={"user_id": 4, "movie_id": 1, "kind": "like"})
    text = client.get("/metrics").get_data(as_text=True)
    assert (
        'movie_genie_http_request_duration_seconds_bucket{le="0.01",method="GET",route="/api/recommendations"' in text
    )
    assert 'movie_genie_model_inference_seconds_count{model="popularity",operation="recommend"}' in text
    assert re.search(r'movie_genie_cache_requests_total\{cache="recommendations",result="hit"\} [1-9]', text)
    assert re.search(r'movie_genie_feedback_events_total\{kind="like"\} [1-9]', text)


# --- the web app -----------------------------------------------------------------------------------------------


@pytest.fixture()
def built_web(tmp_path: Path) -> Path:
    """A minimal build folder as Vite writes it."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text('<!doctype html><div id="root"></div><script src="/assets/app-1a2b.js">')
    (tmp_path / "assets" / "app-1a2b.js").write_text("console.log('app')")
    return tmp_path


def test_serves_the_spa_with_client_side_routes(app: Flask, artefacts: Any, built_web: Path) -> None:
    client = _app(app, artefacts, web_dist=str(built_web)).test_client()
    index = client.get("/")
    assert index.status_code == 200 and b'id="root"' in index.data
    assert index.headers["Cache-Control"] == "no-cache"
    route = client.get("/movies/1?tab=similar")
    assert route.status_code == 200 and route.data == index.data
    asset = client.get("/assets/app-1a2b.js")
    assert asset.status_code == 200 and "immutable" in asset.headers["Cache-Control"]
    assert client.get("/api/unknown").get_json()["error"]["code"] == "not_found"
    assert client.get("/../secrets").status_code in (200, 404)  # never outside the build folder
    assert client.get("/assets/../../etc/passwd").data == index.data


def test_installable_app_files_are_revalidated_and_typed(app: Flask, artefacts: Any, built_web: Path) -> None:
    # The service worker and the manifest keep their names across builds: a cached copy would keep phones on an old
    # build, so they are revalidated on every use; the browser accepts each only with its own content type.
    (built_web / "sw.js").write_text("self.addEventListener('fetch', () => {})")
    (built_web / "manifest.webmanifest").write_text('{"name": "Movie Genie"}')
    client = _app(app, artefacts, web_dist=str(built_web)).test_client()
    worker = client.get("/sw.js")
    assert worker.status_code == 200 and worker.headers["Cache-Control"] == "no-cache"
    assert worker.mimetype in ("text/javascript", "application/javascript")
    assert "script-src 'self'" in worker.headers["Content-Security-Policy"]  # worker-src falls back to it
    manifest = client.get("/manifest.webmanifest")
    assert manifest.status_code == 200 and manifest.headers["Cache-Control"] == "no-cache"
    assert manifest.mimetype == "application/manifest+json"


def test_without_a_build_explains_how_to_make_one(app: Flask, artefacts: Any, tmp_path: Path) -> None:
    client = _app(app, artefacts, web_dist=str(tmp_path / "missing")).test_client()
    page = client.get("/")
    assert page.status_code == 200 and b"npm run build" in page.data
    assert client.get("/some/route").status_code == 200
