import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { SimilarUsers, UserDetail, UserRating } from "../api/types";
import { renderAt, stubApi } from "../test/api";
import { movieSummary as movie } from "../test/fixtures";
import UserProfile from "./UserProfile";

const USER: UserDetail = {
  user_id: 42,
  display_name: "MovieLens user 42",
  source: "movielens",
  private: false,
  rating_count: 21,
  top_genres: ["Drama", "Comedy"],
  taste: [{ kind: "genre", name: "Film-Noir", count: 12, lift: 4.26 }],
  favourites: [movie(1, "The Maltese Falcon")],
  first_rated_at: "2001-05-01T00:00:00Z",
  last_rated_at: "2001-06-01T00:00:00Z",
  age: null,
  gender: null,
  occupation: null,
  created_at: "2001-05-01T00:00:00Z",
  like_count: 1,
  dislike_count: 0,
  watched_count: 0,
  recent_genres: [],
  recent: [],
};

const RATINGS: UserRating[] = Array.from({ length: 20 }, (_, i) => ({
  movie: movie(100 + i, `Film ${i}`),
  rating: 4.5,
  at: "2001-06-01T00:00:00Z",
  source: "dataset",
}));

const FALLBACK: SimilarUsers = {
  user_id: 42,
  model: "taste",
  note: "Two-Tower could not answer (it is not loaded): people who share this user's distinctive genres and tags",
  items: [{ score: 0.5, user: { ...USER, user_id: 7, display_name: "MovieLens user 7" } }],
};

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("UserProfile", () => {
  it("shows the distinctive taste with its lift, favourites, similar people with the fallback note, and pages the ratings", async () => {
    const fetch = stubApi(
      { "/api/users/42": USER, "/api/users/42/ratings": RATINGS, "/api/users/42/similar": FALLBACK },
      { "/api/users/42/ratings": { page: 1, page_size: 20, total: 21 } },
    );
    renderAt(<UserProfile />, "/users/42", "/users/:userId");
    expect(await screen.findByTestId("profile-name")).toHaveTextContent("MovieLens user 42");
    expect(screen.getByTestId("profile-activity")).toHaveTextContent("21 ratings · rated in 2001 · 1 like");
    expect(screen.getByTestId("profile-taste")).toHaveTextContent("Film-Noir · 4.3× as much as most people · 12 films they liked");
    expect(screen.getByTestId("profile-favourites")).toHaveTextContent("The Maltese Falcon (1950)");
    expect(await screen.findByText(/Two-Tower could not answer/)).toBeInTheDocument();
    const similar = screen.getByTestId("similar-users");
    expect(within(similar).getByText("50% shared")).toBeInTheDocument();
    expect(await screen.findByText("Their ratings (21 films)")).toBeInTheDocument();
    expect(within(screen.getByTestId("profile-ratings")).getAllByRole("row")).toHaveLength(21); // header + 20
    expect(screen.getByText("Page 1 of 2")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Older" }));
    expect(await screen.findByText("Page 2 of 2")).toBeInTheDocument();
    const pages = fetch.mock.calls
      .map(([request]) => new URL(request.url))
      .filter((url) => url.pathname === "/api/users/42/ratings")
      .map((url) => url.searchParams.get("page"));
    expect(pages).toEqual(["1", "2"]);
  });

  it("says the user does not exist for an unknown id", async () => {
    stubApi({});
    renderAt(<UserProfile />, "/users/999999", "/users/:userId");
    expect(await screen.findByTestId("not-found")).toHaveTextContent("This user does not exist");
  });
});
