"""The web app as an installable phone app, in Chromium's phone emulation (390x844, touch, 3x pixels) against the
real backend: the manifest is linked and valid and Chromium finds nothing stopping installation, the service worker
registers and controls the page, and with the network gone a reload still opens on the last home page the profile
saw, dated, while a change made offline is refused with words and never reaches the server. A profile's kept rows
answer only that profile with its own key. Screenshots go to web/test-results/screenshots/ (the install page of the
docs shows one)."""

from __future__ import annotations

import os
import re
import shutil
import struct
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import BrowserContext, Page, Playwright, expect

from tests.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.browser import CARD, api, new_profile, screenshot, use_profile, write_result
from tests.e2e.conftest import DIST, ROOT
from tests.live_server import LiveServer, free_port

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}
FOR_YOU = f"[data-testid=row-for-you] {CARD}"
# The paths of every read the service worker keeps (its caches named movie-genie-reads-<build>).
KEPT_PATHS = """async () => {
  const paths = [];
  for (const name of await caches.keys()) {
    if (!name.startsWith("movie-genie-reads-")) continue;
    for (const request of await (await caches.open(name)).keys()) paths.push(new URL(request.url).pathname);
  }
  return paths;
}"""


@pytest.fixture()
def phone(playwright_instance: Playwright, tmp_path: Path) -> Iterator[BrowserContext]:
    """A phone-sized browser with a profile on disk, as a phone's browser has (a new context of a running browser is
    incognito, where Chromium never offers installation), and service workers allowed, unlike the other e2e pages."""
    context = playwright_instance.chromium.launch_persistent_context(
        tmp_path / "chromium-profile",
        executable_path=str(CHROMIUM),
        args=CHROMIUM_ARGS,
        service_workers="allow",
        **PHONE,
    )
    context.set_default_timeout(20_000)
    yield context
    context.close()


def _png_size(body: bytes) -> tuple[int, int]:
    assert body[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", body[16:24])
    return width, height


def _controlled(page: Page) -> None:
    """Wait until the service worker is active and controls this page."""
    # page.evaluate runs over the DevTools protocol (wait_for_function's polling would need the eval the CSP forbids).
    state = page.evaluate(
        "async () => { await navigator.serviceWorker.ready; if (!navigator.serviceWorker.controller) await new Promise("
        "r => navigator.serviceWorker.addEventListener('controllerchange', r, {once: true})); "
        "return navigator.serviceWorker.controller.scriptURL; }"
    )
    assert state.endswith("/sw.js"), state


def _titles(page: Page) -> list[str]:
    return page.locator(FOR_YOU).evaluate_all("cards => cards.map(c => c.getAttribute('data-movie-id'))")


def test_manifest_is_linked_valid_and_chromium_finds_the_app_installable(server: Any, phone: BrowserContext) -> None:
    page = phone.new_page()
    page.goto(f"{server.base}/")
    href = page.locator("link[rel=manifest]").get_attribute("href")
    assert href == "/manifest.webmanifest"
    answer = page.request.get(f"{server.base}{href}")
    assert answer.status == 200 and answer.headers["content-type"].startswith("application/manifest+json")
    manifest = answer.json()
    assert manifest["name"] == "Movie Genie" and manifest["short_name"]
    assert manifest["start_url"] == "/" and manifest["scope"] == "/" and manifest["display"] == "standalone"
    sizes = {}
    for icon in manifest["icons"]:
        image = page.request.get(f"{server.base}/{icon['src']}")
        assert image.status == 200 and image.headers["content-type"] == "image/png", icon
        width, height = _png_size(image.body())
        assert icon["sizes"] == f"{width}x{height}", icon
        sizes[icon.get("purpose", "any")] = sizes.get(icon.get("purpose", "any"), set()) | {width}
    assert {192, 512} <= sizes["any"] and 512 in sizes["maskable"]
    apple = page.locator("link[rel=apple-touch-icon]").get_attribute("href")
    assert _png_size(page.request.get(f"{server.base}{apple}").body()) == (180, 180)  # iOS's home-screen icon

    # What Chromium itself checks before it offers "Install app" / "Add to Home screen" (Lighthouse's
    # installability audit reads the same): no errors, and the manifest it parsed has none either.
    cdp = phone.new_cdp_session(page)
    _controlled(page)
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    parsed = cdp.send("Page.getAppManifest")
    assert errors == [], errors
    assert parsed["errors"] == [], parsed["errors"]
    write_result("installability", {"installability_errors": errors, "manifest_errors": parsed["errors"], "url": href})


def test_offline_reload_shows_the_last_home_page_dated_and_refuses_changes(server: Any, phone: BrowserContext) -> None:
    liked = [m["movie_id"] for m in api(server, "/api/movies?genre=Animation&page_size=3")]
    user_id, secret = new_profile(server, liked, "Phone tester")
    page = phone.new_page()
    use_profile(page, server.base, user_id, secret)
    page.goto(f"{server.base}/")
    _controlled(page)
    # The first load ran before the worker took control: this one is answered through it, which keeps the rows.
    page.reload()
    expect(page.locator(FOR_YOU).first).to_be_visible()
    expect(page.locator("[data-testid^=row-][aria-busy=true]")).to_have_count(0)
    online_films = _titles(page)
    assert online_films
    expect(page.get_by_test_id("offline-notice")).to_have_count(0)

    phone.set_offline(True)
    page.reload()
    expect(page.locator(FOR_YOU).first).to_be_visible()
    assert _titles(page) == online_films
    notice = page.get_by_test_id("offline-notice")
    expect(notice).to_contain_text("You are offline: showing your home page from")
    expect(page.get_by_role("heading", name="Hello, Phone tester")).to_be_visible()
    screenshot(page, "offline-home-390", full_page=False)

    # A change made offline is refused in words where it was made, and the film comes back.
    first = page.locator(FOR_YOU).first
    film = first.get_attribute("data-movie-id")
    first.hover()
    first.get_by_role("button", name="Not interested in").click()
    expect(page.get_by_text("Not saved: You are offline: nothing was sent to the server.")).to_be_visible()
    expect(page.locator(f"{FOR_YOU}[data-movie-id='{film}']")).to_have_count(1)
    screenshot(page, "offline-change-refused-390", full_page=False)

    # Without the profile's key the kept rows are not shown (they vary by the key), even to this browser.
    page.evaluate("localStorage.removeItem('movie-genie.secrets')")
    page.reload()
    expect(page.get_by_text("You are offline: nothing was sent to the server.").first).to_be_visible()
    expect(page.locator(FOR_YOU)).to_have_count(0)

    phone.set_offline(False)
    owner = {"Authorization": f"Bearer {secret}"}
    status, _, body = server.get(f"/api/users/{user_id}/feedback", headers=owner)
    # The refused change never reached the server: its only events are the likes the profile was made with.
    assert status == 200 and not [e for e in body["data"] if str(e["movie_id"]) == film], body


def test_a_new_profile_never_sees_the_previous_profiles_kept_rows(server: Any, phone: BrowserContext) -> None:
    liked = [m["movie_id"] for m in api(server, "/api/movies?genre=Animation&page_size=3")]
    first_id, first_secret = new_profile(server, liked, "First phone owner")
    second_id, second_secret = new_profile(server, liked, "Second phone owner")
    page = phone.new_page()
    use_profile(page, server.base, first_id, first_secret)
    page.goto(f"{server.base}/")
    _controlled(page)
    page.reload()
    expect(page.locator(FOR_YOU).first).to_be_visible()
    assert f"/api/users/{first_id}/home" in page.evaluate(KEPT_PATHS)
    # Another person's profile page reads their profile: not kept, and the current profile's rows stay.
    page.goto(f"{server.base}/users/9")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.wait_for_load_state("networkidle")
    kept = page.evaluate(KEPT_PATHS)
    assert "/api/users/9" not in kept and f"/api/users/{first_id}/home" in kept, kept
    # The second profile's home, read online, replaces the first's kept rows.
    use_profile(page, server.base, second_id, second_secret)
    page.goto(f"{server.base}/")
    expect(page.get_by_role("heading", name="Hello, Second phone owner")).to_be_visible()
    expect(page.locator(FOR_YOU).first).to_be_visible()
    kept = page.evaluate(KEPT_PATHS)
    assert f"/api/users/{second_id}/home" in kept
    assert not [path for path in kept if f"/users/{first_id}" in path], kept
    # Deleting the profile (its owner's request, through the worker) deletes its kept rows too.
    status = page.evaluate(
        "([id, key]) => fetch(`/api/users/${id}`, {method: 'DELETE', headers: {Authorization: `Bearer ${key}`}})"
        ".then(r => r.status)",
        [second_id, second_secret],
    )
    assert status in (200, 204)
    assert not [path for path in page.evaluate(KEPT_PATHS) if path.startswith("/api/users/")]


@pytest.fixture()
def own_build(e2e_artefacts: Any, tmp_path: Path) -> Iterator[tuple[LiveServer, Path]]:
    """A server of the test's own serving a copy of web/dist (the test then changes it: a new build) on a copy of
    the database."""
    dist = tmp_path / "dist"
    shutil.copytree(DIST, dist)
    params = yaml.safe_load(Path(e2e_artefacts.params_file).read_text(encoding="utf-8"))
    params["serving"] = {**params["serving"], "web_dist": str(dist)}
    params_file = tmp_path / "params.yaml"
    params_file.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    database = Path(e2e_artefacts.database_url.removeprefix("sqlite:///"))
    copy = tmp_path / database.name
    for suffix in ("", "-wal", "-shm"):
        if database.with_name(database.name + suffix).is_file():
            shutil.copy2(database.with_name(database.name + suffix), copy.with_name(copy.name + suffix))
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{copy}", "HF_HUB_OFFLINE": "1"}
    for name in ("REDIS_URL", "MOVIE_GENIE_ENV", "MOVIE_GENIE_DEMO_MODE", "MOVIE_GENIE_TRUSTED_PROXIES"):
        env.pop(name, None)
    port = free_port()
    command = [str(Path(sys.executable).with_name("movie-genie")), "--params", str(params_file)]
    command += ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    running = LiveServer.start(command, port=port, workers=1, env=env, log=tmp_path / "gunicorn.log", cwd=ROOT)
    try:
        yield running, dist
    finally:
        running.stop()


def test_a_new_build_replaces_the_old_one_at_the_next_start(own_build: Any, phone: BrowserContext) -> None:
    server, dist = own_build
    page = phone.new_page()
    page.goto(f"{server.base}/users")
    page.evaluate("localStorage.setItem('movie-genie.user', '9')")  # a MovieLens profile (local demo mode)
    page.goto(f"{server.base}/")
    _controlled(page)
    page.reload()
    expect(page.locator(FOR_YOU).first).to_be_visible()
    old_caches = page.evaluate("caches.keys()")

    # A new build: index.html changes, and with it its revision in the worker's file list (as Vite and the plugin
    # write them; the hashed bundles are unchanged here).
    index = dist / "index.html"
    index.write_text(index.read_text().replace("<head>", '<head><meta name="build" content="second">', 1))
    worker = dist / "sw.js"
    text, count = re.subn(
        r'"revision":"[0-9a-f]+","url":"index.html"', '"revision":"second","url":"index.html"', worker.read_text()
    )
    assert count == 1, "the worker's file list has no index.html entry"
    worker.write_text(text)

    # The next start still opens at once (the old build, from the phone), finds the new worker, which takes over,
    # and the page reloads onto the new build; the old build's kept reads are gone.
    page.reload()
    expect(page.locator("meta[name=build]")).to_have_count(1, timeout=30_000)
    expect(page.locator(FOR_YOU).first).to_be_visible()
    new_caches = page.evaluate("caches.keys()")
    old_reads = [name for name in old_caches if name.startswith("movie-genie-reads-")]
    assert old_reads and not set(old_reads) & set(new_caches), (old_caches, new_caches)
    assert any(name.startswith("movie-genie-reads-") for name in new_caches), new_caches
