"""What the browser tests share: screenshots and results under web/test-results/, axe-core, and a profile made
through the API that a page then uses as its own (its key in the page's storage, as onboarding leaves it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

WEB = Path(__file__).resolve().parents[2] / "web"
# Screenshots, timings and accessibility findings: test artefacts, git-ignored.
RESULTS = WEB / "test-results"
AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"
CARD = "[data-testid=movie-card]"


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot under web/test-results/screenshots/ and return its path."""
    path = RESULTS / "screenshots" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page)
    return path


def write_result(name: str, payload: dict[str, Any]) -> Path:
    """Write a JSON result under web/test-results/."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return path


def axe(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the current page (injected over the DevTools protocol, so the CSP still holds)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("axe.run(document, { resultTypes: ['violations'] })")
    keep = ("id", "impact", "help")
    return [
        {**{k: v[k] for k in keep}, "nodes": len(v["nodes"]), "targets": [n["target"] for n in v["nodes"][:5]]}
        for v in result["violations"]
    ]


def api(server: Any, path: str) -> Any:
    """The data of a GET answered 200."""
    status, _, body = server.get(path)
    assert status == 200, body
    return body["data"]


def new_profile(server: Any, liked: list[int], name: str) -> tuple[int, str]:
    """A profile made through the API (as onboarding makes one): its id and its key."""
    status, _, created = server.post("/api/users", {"liked_movie_ids": liked, "display_name": name})
    assert status == 201, created
    return created["data"]["user"]["user_id"], created["data"]["secret"]


def use_profile(page: Page, base: str, user_id: int, secret: str) -> None:
    """Make `user_id` this page's profile, with its key, as the browser that created it has them."""
    page.goto(f"{base}/users")
    page.evaluate(
        "([user, secret]) => { localStorage.setItem('movie-genie.user', String(user));"
        " localStorage.setItem('movie-genie.secrets', JSON.stringify({[user]: secret})); }",
        [user_id, secret],
    )
