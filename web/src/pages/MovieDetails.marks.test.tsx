import { fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { MovieMark } from "../api/types";
import { renderAt, stubApi } from "../test/api";
import { HEAT, NO_MARK } from "../test/fixtures";
import MovieDetails from "./MovieDetails";

function renderHeat(mark: Partial<MovieMark>) {
  const fetch = stubApi({
    "/api/movies/6": HEAT,
    "/api/movies/6/similar": { movie_id: 6, collaborative: [], content: [] },
    "/api/catalogue": { movies: 1, with_overview: 1, with_poster: 0 },
    "/api/users/3/movies/6": { ...NO_MARK, ...mark },
    "/api/feedback": {},
  });
  renderAt(<MovieDetails />, "/movies/6", "/movies/:movieId");
  return fetch;
}

describe("MovieDetails marks", () => {
  beforeEach(() => {
    window.localStorage.setItem("movie-genie.user", "3");
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    window.localStorage.clear();
  });

  it("shows the user's own data set rating of any film, however old", async () => {
    renderHeat({ movie_id: 6, rating: 2.5, rating_source: "dataset" });
    expect(await screen.findByText("2.5★ of 5")).toBeInTheDocument();
    expect(screen.queryByText("Not rated")).not.toBeInTheDocument();
  });

  it("takes a like back when Like is pressed again, and asks for similar films without the user's own", async () => {
    const fetch = renderHeat({ movie_id: 6, liked: true });
    const like = await screen.findByRole("button", { name: "Like" });
    await waitFor(() => {
      expect(like).toHaveAttribute("aria-pressed", "true");
    });
    fireEvent.click(like);
    await waitFor(() => {
      expect(fetch.mock.calls.some(([request]) => request.method === "DELETE")).toBe(true);
    });
    const removal = new URL(fetch.mock.calls.find(([request]) => request.method === "DELETE")?.[0].url ?? "");
    expect(Object.fromEntries(removal.searchParams)).toEqual({ user_id: "3", movie_id: "6", kind: "like" });
    const similar = fetch.mock.calls.map(([request]) => new URL(request.url)).find((u) => u.pathname.endsWith("/similar"));
    expect(similar?.searchParams.get("user_id")).toBe("3");
  });
});
