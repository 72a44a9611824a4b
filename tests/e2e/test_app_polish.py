"""The app as a film fan meets it (issue 28), in Chromium against the real backend: every mark can be undone from
where it was made, ratings go in half stars and can be cleared, a profile's key can be seen, copied and used in
another browser, its ratings exported and the profile deleted; one tab stop per card, a title per page, axe-core
clean on every page in both themes and on phones, and phone layouts without sideways scrolling or small targets.
Screenshots go to web/test-results/screenshots/ (docs/app.md shows them)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import CARD, api, axe, new_profile, screenshot, use_profile, write_result

PHONES = ((390, 844), (360, 740))


def _family_films(server: Any) -> list[int]:
    return [m["movie_id"] for m in api(server, "/api/movies?genre=Animation&page_size=3")]


def _mark(server: Any, user_id: int, movie_id: int, secret: str) -> dict[str, Any]:
    owner = {"Authorization": f"Bearer {secret}"}
    status, _, body = server.get(f"/api/users/{user_id}/movies/{movie_id}", headers=owner)
    assert status == 200, body
    return body["data"]


def _toast(page: Page, text: str) -> Any:
    toast = page.get_by_test_id("toast").filter(has_text=text)
    expect(toast).to_be_visible()
    return toast


def _star(page: Page, stars: str) -> Any:
    """The half of a star that chooses `stars` ("3.5 stars"): the visible target a person clicks."""
    return page.locator("label", has=page.get_by_role("radio", name=stars, exact=True))


@pytest.fixture()
def profile(server: Any) -> tuple[int, str]:
    return new_profile(server, _family_films(server), "Polish tester")


def test_half_star_rating_clear_and_undo_on_the_film_page(server: Any, new_page: Any, profile: tuple[int, str]) -> None:
    user_id, secret = profile
    film = api(server, "/api/movies?genre=Crime&page_size=1")[0]
    page = new_page(1440)
    use_profile(page, server.base, user_id, secret)
    page.goto(f"{server.base}/movies/{film['movie_id']}")
    expect(page.get_by_test_id("movie-title")).to_have_text(film["title"])
    _star(page, "3.5 stars").click()
    _toast(page, f"You rated {film['title']} 3.5★")  # once the server has it
    expect(page.get_by_test_id("rating-value")).to_have_text("3.5★ of 5")
    assert _mark(server, user_id, film["movie_id"], secret)["rating"] == 3.5
    screenshot(page, "film-rated-half-star-1440", full_page=False)
    # Undo from the message takes the rating back.
    _toast(page, "3.5★").get_by_role("button", name="Undo").click()
    expect(page.get_by_test_id("rating-value")).to_have_text("Not rated")
    _toast(page, "Undone")  # once the server has it
    assert _mark(server, user_id, film["movie_id"], secret)["rating"] is None
    # Rated again, then cleared with the control itself; Undo brings the rating back.
    _star(page, "4 stars").click()
    expect(page.get_by_test_id("rating-value")).to_have_text("4★ of 5")
    page.get_by_role("button", name="Clear rating").click()
    expect(page.get_by_test_id("rating-value")).to_have_text("Not rated")
    cleared = _toast(page, "is cleared")
    assert _mark(server, user_id, film["movie_id"], secret)["rating"] is None
    cleared.get_by_role("button", name="Undo").click()
    expect(page.get_by_test_id("rating-value")).to_have_text("4★ of 5")
    _toast(page, "Undone")
    assert _mark(server, user_id, film["movie_id"], secret)["rating"] == 4.0
    # From the keyboard: the arrow keys move by half a star.
    page.get_by_role("radio", name="4 stars", exact=True).focus()
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_test_id("rating-value")).to_have_text("3.5★ of 5")


def test_like_toggles_and_undo_restores_the_dislike_it_replaced(
    server: Any, new_page: Any, profile: tuple[int, str]
) -> None:
    user_id, secret = profile
    film = api(server, "/api/movies?genre=Western&page_size=1")[0]
    page = new_page(1440)
    use_profile(page, server.base, user_id, secret)
    page.goto(f"{server.base}/movies/{film['movie_id']}")
    dislike = page.get_by_role("button", name="Dislike", exact=True)
    like = page.get_by_role("button", name="Like", exact=True)
    dislike.click()
    expect(dislike).to_have_attribute("aria-pressed", "true")
    _toast(page, "You dislike")
    like.click()  # a like replaces the dislike
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(dislike).to_have_attribute("aria-pressed", "false")
    _toast(page, "You like").get_by_role("button", name="Undo").click()
    # Undone: not liked, and the dislike it replaced is back.
    _toast(page, "Undone")
    expect(like).to_have_attribute("aria-pressed", "false")
    expect(dislike).to_have_attribute("aria-pressed", "true")
    mark = _mark(server, user_id, film["movie_id"], secret)
    assert (mark["liked"], mark["disliked"]) == (False, True)
    dislike.click()  # the control itself toggles back
    expect(dislike).to_have_attribute("aria-pressed", "false")
    _toast(page, "no longer marked as disliked")
    assert _mark(server, user_id, film["movie_id"], secret)["disliked"] is False


def test_not_interested_on_a_card_hides_it_and_undo_brings_it_back(
    server: Any, new_page: Any, profile: tuple[int, str]
) -> None:
    user_id, secret = profile
    page = new_page(1440)
    use_profile(page, server.base, user_id, secret)
    page.goto(f"{server.base}/")
    row = page.get_by_test_id("row-for-you")
    first = row.locator(CARD).first
    expect(first).to_be_visible()
    movie_id = int(first.get_attribute("data-movie-id") or 0)
    title = api(server, f"/api/movies/{movie_id}")["title"]
    first.hover()
    page.get_by_role("button", name=f"Not interested in {title}").first.click()
    expect(row.locator(f"{CARD}[data-movie-id='{movie_id}']")).to_have_count(0)
    dismissed = _toast(page, "will not be recommended again")
    assert _mark(server, user_id, movie_id, secret)["dismissed"] is True
    dismissed.get_by_role("button", name="Undo").click()
    _toast(page, "Undone")
    assert _mark(server, user_id, movie_id, secret)["dismissed"] is False
    expect(page.locator(f"{CARD}[data-movie-id='{movie_id}']").first).to_be_visible()


def test_profile_key_sign_in_elsewhere_export_and_delete(server: Any, new_page: Any, profile: tuple[int, str]) -> None:
    user_id, secret = profile
    rated = api(server, "/api/movies?genre=Comedy&page_size=2")
    for film, stars in zip(rated, (4.5, 2.0), strict=True):
        status, _, body = server.post(
            "/api/feedback",
            {"user_id": user_id, "movie_id": film["movie_id"], "kind": "rating", "value": stars},
            {"Authorization": f"Bearer {secret}"},
        )
        assert status == 201, body
    page = new_page(1440)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    use_profile(page, server.base, user_id, secret)
    page.goto(f"{server.base}/users/{user_id}")
    key = page.get_by_test_id("profile-key")
    expect(key).to_contain_text("works like a password")
    expect(page.get_by_test_id("profile-key-value")).not_to_contain_text(secret)  # hidden until asked
    key.get_by_role("button", name="Show key").click()
    expect(page.get_by_test_id("profile-key-value")).to_have_text(secret)
    key.get_by_role("button", name="Copy key").click()
    _toast(page, "copied")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    screenshot(page, "profile-key-1440", full_page=False)

    # Ratings as a file, in MovieLens's layout.
    with page.expect_download() as download:
        key.get_by_role("button", name="Download my ratings (CSV)").click()
    assert download.value.suggested_filename == f"movie-genie-ratings-{user_id}.csv"
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    assert {(int(r["movieId"]), float(r["rating"])) for r in rows} >= {
        (rated[0]["movie_id"], 4.5),
        (rated[1]["movie_id"], 2.0),
    }
    assert all(r["userId"] == str(user_id) and int(r["timestamp"]) > 0 for r in rows)

    # Another browser (its own storage) uses the profile with the pasted key.
    other = new_page(390, 844)
    # Without the key, the profile shows others only that it exists; choosing it asks for the key.
    other.goto(f"{server.base}/users/{user_id}")
    expect(other.get_by_test_id("private-profile")).to_be_visible()
    expect(other.locator("body")).not_to_contain_text(rated[0]["title"])
    other.get_by_role("button", name="Use this profile").click()
    expect(other).to_have_url(f"{server.base}/users")
    expect(other.get_by_test_id("sign-in-with-key")).to_contain_text("Polish tester is private")
    expect(other.get_by_label("Profile key")).to_be_focused()
    other.get_by_label("Profile key").fill("not-a-key")
    other.get_by_role("button", name="Use this profile").click()
    expect(other.get_by_test_id("sign-in-with-key")).to_contain_text("No profile has this key")
    other.get_by_label("Profile key").fill(secret)
    screenshot(other, "sign-in-with-key-390", full_page=False)
    other.get_by_role("button", name="Use this profile").click()
    expect(other).to_have_url(f"{server.base}/")
    expect(other.get_by_role("heading", level=1)).to_contain_text("Polish tester")
    other.goto(f"{server.base}/movies/{rated[0]['movie_id']}")
    expect(other.get_by_test_id("rating-value")).to_have_text("4.5★ of 5")
    expect(other.get_by_role("button", name="Like", exact=True)).to_be_enabled()  # the key lets it rate

    # Deleting asks first, then removes the profile and everything in it.
    key.get_by_role("button", name="Delete this profile…").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("cannot be undone")
    expect(dialog.get_by_role("button", name="Keep my profile")).to_be_focused()  # the safe answer first
    dialog.get_by_role("button", name="Keep my profile").click()
    expect(dialog).to_have_count(0)
    expect(key.get_by_role("button", name="Delete this profile…")).to_be_focused()
    key.get_by_role("button", name="Delete this profile…").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Delete for good").click()
    expect(page).to_have_url(f"{server.base}/users")
    _toast(page, "are deleted")
    status, _, _ = server.get(f"/api/users/{user_id}")
    assert status == 404
    assert page.evaluate("localStorage.getItem('movie-genie.secrets')").find(str(secret)) == -1
    assert page.evaluate("localStorage.getItem('movie-genie.user')") is None


def _tab_stops(page: Page, selector: str) -> list[int]:
    """For each element matching `selector`, how many elements inside it the Tab key stops at."""
    return page.locator(selector).evaluate_all(
        """els => els.map(el => [...el.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')]
            .filter(x => !x.disabled && x.tabIndex >= 0 && x.getClientRects().length > 0).length)"""
    )


def test_one_tab_stop_per_card_buttons_named_and_a_title_per_page(server: Any, new_page: Any) -> None:
    page = new_page(1440)
    page.goto(f"{server.base}/users")
    expect(page).to_have_title("Choose a profile — Movie Genie")
    page.get_by_label("Find a profile").fill("5")
    page.locator("[data-testid=user-option][data-user-id='5']").click()
    expect(page.locator(f"[data-testid=row-for-you] {CARD}").first).to_be_visible()
    expect(page).to_have_title("Home — Movie Genie")
    stops = _tab_stops(page, CARD)
    assert len(stops) > 40 and set(stops) == {1}, f"tab stops per card: {sorted(set(stops))}"
    # Buttons say what they act on: no two "Not interested" buttons share a name.
    names = page.locator("[data-testid=dismiss]").evaluate_all("els => els.map(e => e.getAttribute('aria-label'))")
    assert names and all(n.startswith("Not interested in ") for n in names)
    # Tab from one card's link goes to the next card's link.
    links = page.locator(f"[data-testid=row-for-you] {CARD} a")
    links.nth(0).focus()
    page.keyboard.press("Tab")
    expect(links.nth(1)).to_be_focused()
    # A row's dozen cards can be skipped: the row's skip link (shown when focused) lands after the row.
    skip = page.get_by_role("link", name="Skip past “Top picks for you”")
    skip.focus()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip past “Up next”")).to_be_focused()
    # Each page names itself.
    links.nth(0).click()
    title = page.get_by_test_id("movie-title").inner_text()
    expect(page).to_have_title(re.compile(rf"^{re.escape(title)} \(\d{{4}}\) — Movie Genie$"))
    for path, expected in (
        ("/search?q=heat", "Search: heat — Movie Genie"),
        ("/models", "Models — Movie Genie"),
        ("/about", "About — Movie Genie"),
        ("/users/5", "MovieLens user 5's profile — Movie Genie"),
        ("/onboarding", "Start your profile — Movie Genie"),
        ("/no/such/page", "This page does not exist — Movie Genie"),
    ):
        page.goto(f"{server.base}{path}")
        expect(page).to_have_title(expected)


def _open_numbers(page: Page) -> None:
    page.get_by_text("The numbers:").click()
    expect(page.get_by_test_id("metrics-table")).to_be_visible()


def _pages(server: Any, user_id: int) -> list[tuple[str, str, Any]]:
    """(name, path, what shows when it is ready) for every screen."""
    film = api(server, "/api/movies?page_size=1")[0]["movie_id"]

    def first_card(where: str) -> Any:
        return lambda p: expect(p.locator(f"[data-testid={where}] {CARD}").first).to_be_visible()

    return [
        ("home", "/", first_card("row-for-you")),
        ("search", "/search?q=robots", first_card("search-results")),
        ("film", f"/movies/{film}", lambda p: expect(p.get_by_test_id("movie-title")).to_be_visible()),
        ("profile", f"/users/{user_id}", lambda p: expect(p.get_by_test_id("profile-key")).to_be_visible()),
        ("picker", "/users", lambda p: expect(p.get_by_test_id("user-option").first).to_be_visible()),
        ("models", "/models", _open_numbers),
        ("about", "/about", lambda p: expect(p.get_by_role("heading", level=1)).to_be_visible()),
        ("onboarding", "/onboarding", lambda p: expect(p.get_by_test_id("picked-count")).to_be_visible()),
    ]


def test_axe_finds_no_serious_violation_on_any_page_theme_or_phone(
    server: Any, new_page: Any, profile: tuple[int, str]
) -> None:
    user_id, secret = profile
    findings: dict[str, list[dict[str, Any]]] = {}
    for width, height, scheme in ((1440, 900, "light"), (1440, 900, "dark"), (390, 844, "light"), (390, 844, "dark")):
        page = new_page(width, height, color_scheme=scheme)
        use_profile(page, server.base, user_id, secret)
        for name, path, ready in _pages(server, user_id):
            page.goto(f"{server.base}{path}")
            ready(page)
            findings[f"{name}-{scheme}-{width}"] = axe(page)
    write_result("axe-every-page", findings)
    serious = {name: [v for v in found if v["impact"] in ("serious", "critical")] for name, found in findings.items()}
    serious = {name: found for name, found in serious.items() if found}
    assert not serious, f"serious or critical accessibility violations: {serious}"


@pytest.mark.parametrize(("width", "height"), PHONES)
def test_phone_layout_fits_keeps_targets_44_px_and_nothing_under_a_sticky_bar(
    server: Any, new_page: Any, profile: tuple[int, str], width: int, height: int
) -> None:
    user_id, secret = profile
    page = new_page(width, height)
    use_profile(page, server.base, user_id, secret)
    for name, path, ready in _pages(server, user_id):
        page.goto(f"{server.base}{path}")
        ready(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} scrolls sideways"
        # Every button and control is at least 44 px tall (links inside sentences aside).
        targets = page.locator("main button, header a, header button, footer a, [data-testid=toast] button")
        small = targets.evaluate_all(
            """els => els.filter(e => e.getClientRects().length > 0)
                .map(e => [e.getAttribute('aria-label') || e.textContent.trim(), e.getBoundingClientRect().height])
                .filter(([, h]) => h < 43.5)"""
        )
        assert not small, f"{name}: targets under 44 px: {small[:8]}"
        # Text and the first card of each row keep a margin from the screen's edge (a row scrolled to its start).
        edges = page.locator(f"main h1, [data-testid=row-items] > li:first-child {CARD}").evaluate_all(
            "els => els.map(e => e.getBoundingClientRect().left)"
        )
        assert edges and min(edges) >= 12, f"{name}: something touches the screen's edge: {edges}"
        screenshot(page, f"{name}-{width}")
    # Onboarding's sticky bar stays visible (nothing covers it) after scrolling down the films.
    page.goto(f"{server.base}/onboarding")
    expect(page.get_by_test_id("pick-movie").first).to_be_visible()
    page.mouse.wheel(0, 1500)
    bar = page.get_by_test_id("picked-count")
    page.wait_for_timeout(300)
    box = bar.bounding_box()
    assert box is not None and 0 <= box["y"] < height
    covering = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y)?.closest('[data-testid=picked-count]') !== null",
        [box["x"] + 5, box["y"] + box["height"] / 2],
    )
    assert covering, "the onboarding bar is covered"


def test_picker_ranks_profiles_by_match_and_the_genre_row_names_a_distinctive_genre(server: Any, new_page: Any) -> None:
    page = new_page(1440)
    page.goto(f"{server.base}/users")
    page.get_by_label("Find a profile").fill("dark comedy")
    cards = page.get_by_test_id("user-list").locator("article")
    expect(page.get_by_text(re.compile(r"profiles? matching “dark comedy”"))).to_be_visible()
    # The best match first: a profile whose taste holds both words, not the lowest id holding one.
    expect(cards.first).to_contain_text("#dark comedy")
    ids = [int(v) for v in page.get_by_test_id("user-option").evaluate_all("els => els.map(e => e.dataset.userId)")]
    assert ids != sorted(ids), "profiles are listed by id, not by how well they match"
    cards.first.get_by_role("button", name=re.compile("^Use ")).click()
    genre_row = page.get_by_test_id("row-your-genres")
    expect(genre_row.locator(CARD).first).to_be_visible()
    title = genre_row.get_by_role("heading", level=2).inner_text()
    assert title.startswith("Most loved ") and title != "Most loved Drama", title
    expect(genre_row).to_contain_text("more than most people do")


def test_search_says_no_close_matches_instead_of_a_page_of_strangers(server: Any, new_page: Any) -> None:
    page = new_page(390, 844)
    page.goto(f"{server.base}/search?q=asdfghjkl")
    expect(page.get_by_text("No close matches for “asdfghjkl”")).to_be_visible()
    expect(page.locator(f"[data-testid=search-results] {CARD}")).to_have_count(0)
    page.goto(f"{server.base}/search?q=heat")
    expect(page.locator(f"[data-testid=search-results] {CARD}").first).to_contain_text("Heat")
