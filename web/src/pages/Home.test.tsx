import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { HomePage, MovieSummary, UserDetail } from "../api/types";
import { renderAt, stubApi } from "../test/api";
import { MODEL_CARDS } from "../test/fixtures";

// The catalogue the rows' badges are labelled from (GET /api/models).
const MODELS = { models: [], catalogue: MODEL_CARDS, report: null, experiments: [], reload_error: null };
import { Home } from "./Home";

const movie = (id: number, title: string): MovieSummary => ({
  movie_id: id,
  title,
  year: 1999,
  genres: ["Drama"],
  poster_path: null,
  rating_mean: 4,
  rating_count: 10,
});

const USER: UserDetail = {
  user_id: 7,
  display_name: "MovieLens user 7",
  source: "movielens",
  private: false,
  rating_count: 3,
  top_genres: ["Drama"],
  taste: [],
  favourites: [],
  first_rated_at: null,
  last_rated_at: null,
  age: null,
  gender: null,
  occupation: null,
  created_at: "2026-01-01T00:00:00Z",
  like_count: 0,
  dislike_count: 0,
  watched_count: 0,
  recent_genres: [],
  recent: [],
};

const HOME: HomePage = {
  user_id: 7,
  excluded: 1,
  rows: [
    {
      id: "for-you",
      title: "Top picks for you",
      purpose: "Your strongest matches.",
      model: "two_tower",
      requested_model: "hybrid",
      history: false,
      items: [{ movie: movie(10, "Heat"), reason: { kind: "liked_film", source_movie_id: 12, genre: null, label: "Because you liked Ronin" }, note: null }],
    },
    {
      id: "popular",
      title: "Popular with everyone",
      purpose: "The most rated films you have not seen.",
      model: "popularity",
      requested_model: "popularity",
      history: false,
      items: [{ movie: movie(11, "Fargo"), reason: { kind: "popular", source_movie_id: null, genre: null, label: "Popular: 10 ratings" }, note: null }],
    },
    {
      id: "recent",
      title: "Your recent activity",
      purpose: "What you rated most recently.",
      model: null,
      requested_model: null,
      history: true,
      items: [{ movie: movie(12, "Ronin"), reason: null, note: "You rated 5★" }],
    },
  ],
};

// The server logs each recommendation row as an impression (the history row is not logged).
const HOME_META = { "/api/users/7/home": { impression_ids: { "for-you": "imp-for-you", popular: "imp-popular" } } };

describe("Home", () => {
  beforeEach(() => {
    window.localStorage.setItem("movie-genie.user", "7");
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    window.localStorage.clear();
  });

  it("renders the server's rows in order, each with its purpose and the model that made it", async () => {
    stubApi({ "/api/users/7": USER, "/api/users/7/home": HOME, "/api/models": MODELS }, HOME_META);
    renderAt(<Home />, "/");
    await screen.findByRole("button", { name: "Not interested in Heat" });
    const forYou = screen.getByTestId("row-for-you");
    expect(within(forYou).getByTestId("row-model")).toHaveTextContent("Two-Tower");
    expect(forYou).toHaveTextContent("Your strongest matches.");
    expect(within(screen.getByTestId("row-recent")).getByTestId("row-model")).toHaveTextContent("Your history");
    const ids = screen.getAllByRole("region").map((section) => section.getAttribute("data-testid"));
    expect(ids).toEqual(["row-for-you", "row-popular", "row-recent"]);
  });

  it("hides a card at once on 'Not interested' and sends a dismiss; history cards have no such button", async () => {
    const fetch = stubApi({ "/api/users/7": USER, "/api/users/7/home": HOME, "/api/feedback": {} }, HOME_META);
    renderAt(<Home />, "/");
    const button = await screen.findByRole("button", { name: "Not interested in Heat" });
    fireEvent.click(button);
    expect(within(screen.getByTestId("row-for-you")).queryByText("Heat")).not.toBeInTheDocument();
    await waitFor(() => {
      expect(fetch.mock.calls.some(([request]) => request.method === "POST")).toBe(true);
    });
    const post = fetch.mock.calls.find(([request]) => request.method === "POST")?.[0];
    // The dismissal names the list it came from, so the online report can attribute it.
    expect(await post?.clone().json()).toEqual({
      user_id: 7,
      movie_id: 10,
      kind: "dismiss",
      value: null,
      impression_id: "imp-for-you",
    });
    expect(within(screen.getByTestId("row-recent")).queryByTestId("dismiss")).not.toBeInTheDocument();
  });

  it("logs opening a film as a click on the impression of the row that showed it, and nothing for the history row", async () => {
    const fetch = stubApi(
      { "/api/users/7": USER, "/api/users/7/home": HOME, "/api/impressions/imp-popular/clicks": {} },
      HOME_META,
    );
    renderAt(<Home />, "/");
    fireEvent.click(await within(await screen.findByTestId("row-popular")).findByRole("heading", { name: "Fargo" }));
    await waitFor(() => {
      expect(fetch.mock.calls.some(([request]) => request.url.includes("/clicks"))).toBe(true);
    });
    const click = fetch.mock.calls.find(([request]) => request.url.includes("/clicks"))?.[0];
    expect(new URL(click?.url ?? "").pathname).toBe("/api/impressions/imp-popular/clicks");
    expect(await click?.clone().json()).toEqual({ movie_id: 11 });
    fireEvent.click(within(screen.getByTestId("row-recent")).getByRole("heading", { name: "Ronin" }));
    expect(fetch.mock.calls.filter(([request]) => request.url.includes("/clicks"))).toHaveLength(1);
  });
});
