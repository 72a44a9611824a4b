"""End-to-end fixtures: the BUILT web app served by the REAL backend (`movie-genie serve`, gunicorn) over what a new
user's first run produces, driven by Debian's Chromium through Playwright (which never downloads a browser here).

The artefacts are the session's `fresh_clone` fixture (tests/fresh_clone.py: a clean clone of the repository
through `dvc repro` on the default data set, ml-latest-small with its 610 users and 9,742 films, tiny model
configs), so the browser sees the default catalogue, not a slice.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.live_server import LiveServer, free_port

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
DIST = WEB / "dist"
# Screenshots, timings and accessibility results: build output, git-ignored.
RESULTS = WEB / "test-results"


def _check_build() -> None:
    """The e2e suite tests the production build: it must exist and be newer than every web source file."""
    index = DIST / "index.html"
    if not index.is_file():
        pytest.fail("web/dist is missing: build the web app first with `make web`")
    sources = [p for folder in ("src", "sw") for p in (WEB / folder).rglob("*") if p.is_file()]
    sources += [WEB / "index.html", WEB / "package-lock.json"]
    newest = max(p.stat().st_mtime for p in sources)
    if newest > index.stat().st_mtime:
        stale = max(sources, key=lambda p: p.stat().st_mtime).relative_to(ROOT)
        pytest.fail(f"web/dist is older than {stale}: rebuild it with `make web`")


@dataclass(frozen=True)
class ReusedArtefacts:
    """An artefact folder built earlier by the `artefacts` fixture (params.yaml + data/movie_genie.db)."""

    params_file: Path
    database_url: str


@pytest.fixture(scope="module")
def e2e_artefacts(request: pytest.FixtureRequest) -> Any:
    """The fresh clone's artefacts; MOVIE_GENIE_E2E_ARTEFACTS=<folder> reuses a copy of one (UI iteration only)."""
    reuse = os.environ.get("MOVIE_GENIE_E2E_ARTEFACTS")
    if reuse:
        folder = Path(reuse)
        if not (folder / "params.yaml").is_file() or not (folder / "data" / "movie_genie.db").is_file():
            pytest.fail(f"MOVIE_GENIE_E2E_ARTEFACTS={reuse} has no params.yaml and data/movie_genie.db")
        return ReusedArtefacts(folder / "params.yaml", f"sqlite:///{folder / 'data' / 'movie_genie.db'}")
    return request.getfixturevalue("fresh_clone")


@contextmanager
def _serve(e2e_artefacts: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`movie-genie serve` (one gunicorn worker) on a copy of the artefacts' database, serving web/dist at / like
    `make run`; stopped on exit."""
    _check_build()
    port = free_port()
    # The browser tests rate films and create users: they write to a copy, so the artefacts they share with other
    # tests (the fresh clone's 610 users) stay as the pipeline left them.
    database = Path(e2e_artefacts.database_url.removeprefix("sqlite:///"))
    copy = tmp_path_factory.mktemp("e2e-db") / database.name
    for suffix in ("", "-wal", "-shm"):
        if database.with_name(database.name + suffix).is_file():
            shutil.copy2(database.with_name(database.name + suffix), copy.with_name(copy.name + suffix))
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{copy}", "HF_HUB_OFFLINE": "1"}
    env.pop("REDIS_URL", None)
    # `make run`'s defaults: local demo mode on loopback (anyone may rate as any MovieLens user).
    for name in ("MOVIE_GENIE_ENV", "MOVIE_GENIE_DEMO_MODE", "MOVIE_GENIE_ADMIN_TOKEN", "MOVIE_GENIE_TRUSTED_PROXIES"):
        env.pop(name, None)
    command = [str(Path(sys.executable).with_name("movie-genie")), "--params", str(e2e_artefacts.params_file)]
    command += ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    log = tmp_path_factory.mktemp("e2e-serve") / "gunicorn.log"
    # cwd = the checkout: params' serving.web_dist (web/dist) is relative to it, as with `make run`.
    running = LiveServer.start(command, port=port, workers=1, env=env, log=log, cwd=ROOT)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def server(e2e_artefacts: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The server the module's tests share (none may stop it: use `own_server` for that)."""
    with _serve(e2e_artefacts, tmp_path_factory) as running:
        yield running


@pytest.fixture()
def own_server(e2e_artefacts: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of the test's own, on its own copy of the database: for a test that stops it or breaks it."""
    with _serve(e2e_artefacts, tmp_path_factory) as running:
        yield running


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    """Playwright's driver (bundled in the Python package; no browser download)."""
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless."""
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} not found: `apt-get install -y chromium` (or set MOVIE_GENIE_CHROMIUM)")
    launched = playwright_instance.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture()
def new_page(browser: Browser) -> Iterator[Any]:
    """A factory of pages in fresh browser contexts (own storage) at a given viewport width."""
    contexts = []

    def make(width: int = 1440, height: int = 900, color_scheme: str = "light") -> Page:
        context = browser.new_context(
            viewport={"width": width, "height": height}, color_scheme=color_scheme, service_workers="block"
        )
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
