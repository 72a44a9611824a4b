"""Search shows how it read the query as chips a person can remove and put back, and says when a name needs film
details; in Chromium, on the e2e artefacts (the ml-100k slice, or the default data set with
MOVIE_GENIE_E2E_ARTEFACTS)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import CARD, api, screenshot


def test_chips_show_the_reading_and_removing_one_searches_again_without_it(server: Any, new_page: Any) -> None:
    page = new_page(1440, 900)
    page.goto(f"{server.base}/search?q=90s+comedies")
    chips = page.get_by_role("list", name="How the search read your words")
    expect(chips).to_contain_text("Decade: 1990s")
    expect(chips).to_contain_text("Genre: Comedy")
    expect(page.locator(f"[data-testid=search-results] {CARD}").first).to_be_visible()
    screenshot(page, "search-chips-desktop")

    page.get_by_role("button", name="Search without genre Comedy").click()
    expect(page).to_have_url(f"{server.base}/search?q=90s+comedies&ignore={quote('genre:Comedy')}")
    expect(chips).not_to_contain_text("Genre: Comedy")
    expect(chips).to_contain_text("Decade: 1990s")
    restore = page.get_by_role("button", name="Read genre Comedy again")
    expect(restore).to_be_visible()
    restore.click()
    expect(chips).to_contain_text("Genre: Comedy")
    expect(page).to_have_url(f"{server.base}/search?q=90s+comedies")


def test_a_new_query_forgets_the_removed_chips(server: Any, new_page: Any) -> None:
    page = new_page(390, 844)
    page.goto(f"{server.base}/search?q=90s+comedies&ignore={quote('genre:Comedy')}")
    expect(page.get_by_role("button", name="Read genre Comedy again")).to_be_visible()
    box = page.get_by_role("combobox", name="Search films")
    box.fill("90s dramas")
    expect(page.get_by_role("list", name="How the search read your words")).to_contain_text("Genre: Drama")
    expect(page.get_by_role("button", name="Read genre Comedy again")).to_have_count(0)
    screenshot(page, "search-chips-phone")


def test_a_name_without_film_details_says_how_to_add_them(server: Any, new_page: Any) -> None:
    reading = api(server, "/api/search?q=tom+hanks")
    if not reading["people_need_details"]:
        pytest.skip("this catalogue has cast data, or no tag names Tom Hanks (the ml-100k slice has no tags)")
    page = new_page(1440, 900)
    page.goto(f"{server.base}/search?q=tom+hanks")
    notice = page.get_by_test_id("people-need-details")
    expect(notice).to_contain_text("needs film details")
    expect(notice.get_by_role("link", name="How to add film details")).to_be_visible()
    titles = page.locator(f"[data-testid=search-results] {CARD}").all_inner_texts()
    assert titles and not any("Peeping Tom" in t or "Tom Jones" in t or "Tom Segura" in t for t in titles)
    screenshot(page, "search-people-need-details")
