import { fireEvent, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { MovieSummary } from "../api/types";
import { renderAt, stubApi } from "../test/api";
import SearchPage from "./SearchPage";

const movie = (id: number, title: string, year: number): MovieSummary => ({
  movie_id: id,
  title,
  year,
  genres: ["Horror"],
  poster_path: null,
  rating_mean: 4,
  rating_count: 10,
});

const hit = (id: number, title: string, year: number) => ({
  rank: 1,
  score: 0.9,
  movie: movie(id, title, year),
  matched_by: ["title"],
});

const CATALOGUE = { movies: 9742, with_overview: 9523, with_poster: 0 };
const GENRES = [
  { genre: "Crime", count: 1199 },
  { genre: "Horror", count: 978 },
];

function api(results: unknown) {
  return stubApi({
    "/api/catalogue": CATALOGUE,
    "/api/genres": GENRES,
    "/api/search": results,
    "/api/search/suggest": [
      { movie_id: 858, title: "The Godfather", year: 1972, score: 100 },
      { movie_id: 1221, title: "The Godfather: Part II", year: 1974, score: 100 },
    ],
  });
}

/** The query strings of every GET /api/search the page made. */
function searches(fetch: ReturnType<typeof stubApi>): URLSearchParams[] {
  return fetch.mock.calls
    .map(([request]) => new URL(request.url))
    .filter((url) => url.pathname === "/api/search")
    .map((url) => url.searchParams);
}

describe("SearchPage", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("says search cannot match what films are about when there are no plot summaries", async () => {
    stubApi({ "/api/catalogue": { movies: 1682, with_overview: 0, with_poster: 0 }, "/api/genres": [] });
    renderAt(<SearchPage />, "/search");
    const notice = await screen.findByRole("complementary", { name: "Missing film details" });
    expect(notice).toHaveTextContent("but not by what a film is about");
    expect(notice).not.toHaveTextContent("make run");
  });

  it("browses by filters alone: a genre and years with an empty box list films, not 'Type to search'", async () => {
    const fetch = api({ query: "", mode: "hybrid", personalized: false, understood: [], people_need_details: false, items: [hit(1, "Halloween", 1978)] });
    renderAt(<SearchPage />, "/search?genre=Horror&year_min=1970&year_max=1989");
    expect(await screen.findByRole("link", { name: /Halloween/ })).toBeInTheDocument();
    expect(screen.queryByText("Type to search")).not.toBeInTheDocument();
    expect(screen.getByText(/1 best-known film in Horror, 1970–1989/)).toBeInTheDocument();
    const sent = searches(fetch).at(-1);
    expect(sent?.get("genre")).toBe("Horror");
    expect(sent?.get("year_min")).toBe("1970");
    expect(sent?.get("q") ?? "").toBe("");
  });

  it("applies a year when Enter is pressed in the year field, without leaving it", async () => {
    const fetch = api({ query: "", mode: "hybrid", personalized: false, understood: [], people_need_details: false, items: [hit(1, "Halloween", 1978)] });
    renderAt(<SearchPage />, "/search?genre=Horror");
    await screen.findByRole("link", { name: /Halloween/ });
    const from = screen.getByLabelText("From year");
    await userEvent.type(from, "1990{Enter}");
    expect(from).toHaveFocus();
    await waitFor(() => {
      expect(searches(fetch).some((params) => params.get("year_min") === "1990")).toBe(true);
    });
  });

  it("applies typed years when Enter is pressed in the search box", async () => {
    const fetch = api({ query: "robots", mode: "hybrid", personalized: false, understood: [], people_need_details: false, items: [hit(2, "I, Robot", 2004)] });
    renderAt(<SearchPage />, "/search?q=robots");
    await screen.findByRole("link", { name: /I, Robot/ });
    const to = screen.getByLabelText("To year");
    await userEvent.type(to, "1999");
    // Enter reaches the search box while the year field still has focus: no blur has applied the year yet.
    expect(to).toHaveFocus();
    fireEvent.keyDown(screen.getByRole("combobox", { name: "Search films" }), { key: "Enter" });
    await waitFor(() => {
      expect(searches(fetch).some((params) => params.get("year_max") === "1999")).toBe(true);
    });
  });

  it("Escape with suggestions open closes them and keeps the query and its results", async () => {
    api({ query: "godfather", mode: "hybrid", personalized: false, understood: [], people_need_details: false, items: [hit(858, "The Godfather", 1972)] });
    renderAt(<SearchPage />, "/search?q=godfather");
    await screen.findByRole("link", { name: /The Godfather/ });
    const box = screen.getByRole("combobox", { name: "Search films" });
    box.focus();
    await waitFor(() => {
      expect(box).toHaveAttribute("aria-expanded", "true");
    });
    // fireEvent returns false when the handler prevented the default: Chromium's own "clear the search field".
    expect(fireEvent.keyDown(box, { key: "Escape" })).toBe(false);
    expect(box).toHaveAttribute("aria-expanded", "false");
    expect(box).toHaveValue("godfather");
    expect(screen.getByRole("link", { name: /The Godfather/ })).toBeInTheDocument();
  });

  it("says which corrected query the results are for, and offers it", async () => {
    api({
      query: "godfater",
      mode: "hybrid",
      personalized: false,
      items: [hit(858, "The Godfather", 1972)],
      did_you_mean: "godfather",
      understood: [],
      people_need_details: false,
    });
    renderAt(<SearchPage />, "/search?q=godfater");
    const fix = await screen.findByRole("button", { name: "godfather" });
    expect(screen.getByText(/Showing results for/)).toBeInTheDocument();
    await userEvent.click(fix);
    expect(screen.getByRole("combobox", { name: "Search films" })).toHaveValue("godfather");
  });

  it("shows how the query was read as chips; removing one searches again without it, and it can be put back", async () => {
    const fetch = api({
      query: "tom hanks comedies",
      mode: "hybrid",
      personalized: false,
      items: [hit(1, "Toy Story 2", 1999)],
      understood: [
        { kind: "person", value: "Tom Hanks", words: "tom hanks", source: "tags", key: "person:Tom Hanks" },
        { kind: "genre", value: "Comedy", words: "comedies", source: "genres", key: "genre:Comedy" },
      ],
      people_need_details: true,
    });
    renderAt(<SearchPage />, "/search?q=tom+hanks+comedies");
    const chips = await screen.findByRole("list", { name: "How the search read your words" });
    expect(chips).toHaveTextContent("Person: Tom Hanks");
    expect(chips).toHaveTextContent("Genre: Comedy");
    const notice = screen.getByRole("complementary", { name: "People search needs film details" });
    expect(notice).toHaveTextContent("films viewers tagged “Tom Hanks”");
    await userEvent.click(screen.getByRole("button", { name: "Search without genre Comedy" }));
    await waitFor(() => {
      expect(searches(fetch).at(-1)?.getAll("ignore")).toEqual(["genre:Comedy"]);
    });
    await userEvent.click(await screen.findByRole("button", { name: "Read genre Comedy again" }));
    await waitFor(() => {
      expect(searches(fetch).at(-1)?.getAll("ignore")).toEqual([]);
    });
  });
});
