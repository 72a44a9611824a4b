import { fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { UserDetail } from "../api/types";
import { renderAt, stubApi } from "../test/api";
import { HEAT, NO_MARK } from "../test/fixtures";
import MovieDetails from "./MovieDetails";

function user(userId: number, source: "movielens" | "app") {
  return { user_id: userId, source, display_name: `User ${userId}` } as unknown as UserDetail;
}

function renderHeat(userId: number, source: "movielens" | "app", demoMode: boolean) {
  window.localStorage.setItem("movie-genie.user", String(userId));
  const fetch = stubApi({
    "/api/access": { demo_mode: demoMode, notice: null, admin: false },
    "/api/movies/6": HEAT,
    "/api/movies/6/similar": { movie_id: 6, collaborative: [], content: [] },
    "/api/catalogue": { movies: 1, with_overview: 1, with_poster: 0 },
    [`/api/users/${userId}`]: user(userId, source),
    [`/api/users/${userId}/movies/6`]: NO_MARK,
    "/api/feedback": {},
  });
  renderAt(<MovieDetails />, "/movies/6", "/movies/:movieId");
  return fetch;
}

describe("MovieDetails: who may rate", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    window.localStorage.clear();
  });

  it("outside demo mode, a MovieLens profile is browsable but its rating buttons say why they are disabled", async () => {
    renderHeat(3, "movielens", false);
    expect(await screen.findByTestId("read-only-profile")).toHaveTextContent("cannot be changed on this server");
    expect(screen.getByRole("button", { name: "Like" })).toBeDisabled();
    expect(screen.getByRole("link", { name: "Start your own profile" })).toHaveAttribute("href", "/onboarding");
  });

  it("in demo mode, a MovieLens profile rates as today", async () => {
    renderHeat(3, "movielens", true);
    const like = await screen.findByRole("button", { name: "Like" });
    await waitFor(() => {
      expect(like).toBeEnabled();
    });
    expect(screen.queryByTestId("read-only-profile")).not.toBeInTheDocument();
  });

  it("a profile created in this browser sends its secret with its writes", async () => {
    window.localStorage.setItem("movie-genie.secrets", JSON.stringify({ "1001": "s3cret" }));
    const fetch = renderHeat(1001, "app", false);
    const like = await screen.findByRole("button", { name: "Like" });
    await waitFor(() => {
      expect(like).toBeEnabled();
    });
    fireEvent.click(like);
    await waitFor(() => {
      expect(fetch.mock.calls.some(([request]) => request.method === "POST")).toBe(true);
    });
    const post = fetch.mock.calls.find(([request]) => request.method === "POST")?.[0];
    expect(post?.headers.get("Authorization")).toBe("Bearer s3cret");
  });
});
