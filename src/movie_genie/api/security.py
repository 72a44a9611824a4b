"""Security headers (with a Content-Security-Policy), CORS for configured origins only, the body size limit and
the client's address.

The client address (what rate limits count per, api/rate_limits.py) is the peer's, or with
MOVIE_GENIE_TRUSTED_PROXIES=N (compose: 1, the nginx front door) the one those proxies put in X-Forwarded-For
(werkzeug's ProxyFix; their X-Forwarded-Proto says whether the client came over TLS). Trusting it without a proxy
in front would let every client pick its own address.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from flask import Flask, Response, abort, g, request
from flask_cors import CORS
from werkzeug.middleware.proxy_fix import ProxyFix

from movie_genie.api.config import ServingConfig
from movie_genie.config import Settings

# Paths of the interactive API docs (Swagger UI): their page needs a nonce for its inline bootstrap script.
DOCS_PREFIX = "/api/docs"


def csp_nonce() -> str:
    """A per-request random nonce for the docs page's inline script and style (templates call this)."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(16)
    return str(nonce)


def content_security_policy(image_hosts: tuple[str, ...], nonce: str | None) -> str:
    """The CSP for this response: scripts only from this origin (plus the docs page's nonce), no framing.

    The built web app loads hashed JS/CSS from /assets and talks to /api on the same origin; poster images may
    come from TMDB's image host; placeholder art uses data: URLs. Inline style attributes are allowed because
    React components set them; inline scripts are not (except the docs page's, by nonce).
    """
    script = "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
    style = "'self' 'unsafe-inline'"
    images = " ".join(("'self'", "data:", "blob:", *image_hosts))
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src {script}",
            f"style-src {style}",
            f"img-src {images}",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def _set_security_headers(config: ServingConfig) -> Callable[[Response], Response]:
    # The CSP is the same for every response except the docs page (which carries a nonce): build it once.
    default_csp = content_security_policy(config.image_hosts, None)

    static = (
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
    )

    def add_headers(response: Response) -> Response:
        headers = response.headers
        # add() appends without scanning the existing headers (nothing else sets these): cheaper than set().
        for name, value in static:
            headers.add(name, value)
        nonce = g.get("csp_nonce")
        headers.add(
            "Content-Security-Policy",
            default_csp if nonce is None else content_security_policy(config.image_hosts, nonce),
        )
        return response

    return add_headers


def init_security(app: Flask, settings: Settings, config: ServingConfig) -> None:
    """Install headers, CORS, the body size limit and the trusted proxies' client address."""
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    if settings.trusted_proxies:
        proxies = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]

    @app.before_request
    def _reject_large_bodies() -> None:
        # Werkzeug enforces MAX_CONTENT_LENGTH when the body is read; refuse early even if a view never reads it.
        if request.content_length is not None and request.content_length > config.max_body_bytes:
            abort(413)

    app.after_request(_set_security_headers(config))

    if settings.cors_origins:
        # Only the listed origins get CORS headers; with none configured the browser's same-origin rule applies.
        CORS(
            app,
            resources={r"/api/*": {"origins": list(settings.cors_origins)}},
            methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["Content-Type", "Authorization", "Idempotency-Key", "Client-Token"],
            max_age=600,
        )
