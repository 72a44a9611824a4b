/** Opening a film from search results or a similar-films list is a click on the impression that list was logged as. */
import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { ScoredMovie, SearchHit } from "../api/types";
import { renderAt, stubApi } from "../test/api";
import { HEAT, movieSummary, NO_MARK } from "../test/fixtures";
import MovieDetails from "./MovieDetails";
import SearchPage from "./SearchPage";

const CATALOGUE = { movies: 9742, with_overview: 9523, with_poster: 0 };

const hit = (id: number, title: string, rank: number): SearchHit => ({
  rank,
  score: 0.9,
  movie: movieSummary(id, title),
  matched_by: ["semantic"],
  reason: null,
});

const scored = (id: number, title: string, rank: number): ScoredMovie => ({
  rank,
  score: 0.8,
  movie: movieSummary(id, title),
  reason: { kind: "same_viewers", source_movie_id: null, genre: null, label: "Liked by the same viewers" },
});

const SEARCH = {
  query: "heist",
  mode: "hybrid",
  personalized: true,
  understood: [],
  people_need_details: false,
  items: [hit(6, "Heat", 1), hit(2019, "Rififi", 2)],
  did_you_mean: null,
};

const SIMILAR = {
  movie_id: 6,
  collaborative: [scored(1, "Ronin", 1)],
  content: [scored(2, "Thief", 1)],
};

type Fetch = ReturnType<typeof stubApi>;

/** Every POST to a clicks endpoint: its path and body. */
async function clicks(fetch: Fetch): Promise<{ path: string; body: unknown }[]> {
  const requests = fetch.mock.calls.map(([request]) => request).filter((r) => r.url.includes("/clicks"));
  return Promise.all(
    requests.map(async (r) => ({ path: new URL(r.url).pathname, body: (await r.clone().json()) as unknown })),
  );
}

/** Let a click's request, if one was started, reach fetch. */
async function settle(): Promise<void> {
  await act(() => new Promise((resolve) => setTimeout(resolve, 50)));
}

function requestTo(fetch: Fetch, path: string): URL | undefined {
  return fetch.mock.calls.map(([request]) => new URL(request.url)).find((url) => url.pathname === path);
}

afterEach(() => {
  vi.unstubAllGlobals();
  window.localStorage.clear();
});

describe("clicks from search results", () => {
  it("with a user, asks for logged results and posts opening a film to their impression", async () => {
    window.localStorage.setItem("movie-genie.user", "7");
    const fetch = stubApi(
      {
        "/api/catalogue": CATALOGUE,
        "/api/genres": [],
        "/api/search": SEARCH,
        "/api/impressions/imp-search/clicks": {},
      },
      { "/api/search": { impression_id: "imp-search" } },
    );
    renderAt(<SearchPage />, "/search?q=heist");
    fireEvent.click(await screen.findByRole("heading", { name: "Rififi" }));
    await waitFor(async () => {
      expect(await clicks(fetch)).toEqual([{ path: "/api/impressions/imp-search/clicks", body: { movie_id: 2019 } }]);
    });
    expect(requestTo(fetch, "/api/search")?.searchParams.get("user_id")).toBe("7");
  });

  it("without a user (nothing logged, no impression id) posts no click", async () => {
    const fetch = stubApi(
      { "/api/catalogue": CATALOGUE, "/api/genres": [], "/api/search": SEARCH },
      { "/api/search": { impression_id: null } },
    );
    renderAt(<SearchPage />, "/search?q=heist");
    fireEvent.click(await screen.findByRole("heading", { name: "Heat" }));
    await settle();
    expect(requestTo(fetch, "/api/search")?.searchParams.has("user_id")).toBe(false);
    expect(await clicks(fetch)).toEqual([]);
  });
});

describe("clicks from similar films", () => {
  beforeEach(() => {
    window.localStorage.setItem("movie-genie.user", "7");
  });

  function renderHeat(impressionIds: Record<string, string>) {
    const fetch = stubApi(
      {
        "/api/movies/6": HEAT,
        "/api/movies/6/similar": SIMILAR,
        "/api/catalogue": CATALOGUE,
        "/api/users/7/movies/6": NO_MARK,
        "/api/impressions/imp-collab/clicks": {},
        "/api/impressions/imp-content/clicks": {},
      },
      { "/api/movies/6/similar": { impression_ids: impressionIds } },
    );
    renderAt(<MovieDetails />, "/movies/6", "/movies/:movieId");
    return fetch;
  }

  it.each([
    ["similar-collaborative", "Ronin", "/api/impressions/imp-collab/clicks", 1],
    ["similar-content", "Thief", "/api/impressions/imp-content/clicks", 2],
  ])("posts a film opened from %s to that list's impression", async (row, title, path, movieId) => {
    const fetch = renderHeat({ collaborative: "imp-collab", content: "imp-content" });
    fireEvent.click(await within(await screen.findByTestId(`row-${row}`)).findByRole("heading", { name: title }));
    await waitFor(async () => {
      expect(await clicks(fetch)).toEqual([{ path, body: { movie_id: movieId } }]);
    });
    expect(requestTo(fetch, "/api/movies/6/similar")?.searchParams.get("user_id")).toBe("7");
  });

  it("posts nothing for a list that was not logged", async () => {
    const fetch = renderHeat({ collaborative: "imp-collab" });
    const content = await screen.findByTestId("row-similar-content");
    fireEvent.click(await within(content).findByRole("heading", { name: "Thief" }));
    await settle();
    expect(await clicks(fetch)).toEqual([]);
  });
});
