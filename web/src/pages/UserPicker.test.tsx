import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { UserSummary } from "../api/types";
import { renderAt, stubApi } from "../test/api";
import { movieSummary as movie } from "../test/fixtures";
import UserPicker from "./UserPicker";

const NOIR: UserSummary = {
  user_id: 42,
  display_name: "MovieLens user 42",
  source: "movielens",
  private: false,
  rating_count: 440,
  top_genres: ["Drama", "Comedy", "Action"],
  taste: [
    { kind: "genre", name: "Film-Noir", count: 12, lift: 4.3 },
    { kind: "tag", name: "mafia", count: 7, lift: 2.3 },
  ],
  favourites: [movie(1, "The Maltese Falcon"), movie(2, "Double Indemnity"), movie(3, "The Big Sleep")],
  first_rated_at: "2000-05-01T00:00:00Z",
  last_rated_at: "2018-05-01T00:00:00Z",
};

const NEWCOMER: UserSummary = {
  user_id: 611,
  display_name: "Ada",
  source: "app",
  private: false,
  rating_count: 1,
  top_genres: ["Drama"],
  taste: [],
  favourites: [],
  first_rated_at: "2026-01-01T00:00:00Z",
  last_rated_at: "2026-01-01T00:00:00Z",
};

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("UserPicker", () => {
  it("describes each user by their distinctive taste, favourite films and activity, not the common genres", async () => {
    stubApi({ "/api/users": [NOIR, NEWCOMER] }, { "/api/users": { page: 1, page_size: 24, total: 2 } });
    renderAt(<UserPicker />, "/users");
    const card = await screen.findByRole("article", { name: "MovieLens user 42" });
    expect(within(card).getByText("Film-Noir")).toBeInTheDocument();
    expect(within(card).getByText("#mafia")).toHaveAttribute("title", "mafia: 2.3× as much as most people (7 films they liked)");
    expect(within(card).queryByText(/Drama/)).not.toBeInTheDocument();
    expect(within(card).getByTestId("user-favourites")).toHaveTextContent(
      "Favourites: The Maltese Falcon, Double Indemnity, The Big Sleep",
    );
    expect(within(card).getByTestId("user-activity")).toHaveTextContent("440 ratings · rated in 2000–2018");
    expect(within(card).getByRole("link", { name: "Profile of MovieLens user 42" })).toHaveAttribute("href", "/users/42");
    const other = screen.getByRole("article", { name: "Ada" });
    expect(within(other).getByTestId("user-activity")).toHaveTextContent(/^1 rating · since 2026$/);
    expect(within(other).getByText(/No genre stands out/)).toBeInTheDocument();
    expect(screen.getByText("2 profiles")).toBeInTheDocument();
  });

  it("sends what is typed (an id, a name or a taste word) to the server and says what matched", async () => {
    const fetch = stubApi({ "/api/users": [NOIR] }, { "/api/users": { page: 1, page_size: 24, total: 1 } });
    renderAt(<UserPicker />, "/users");
    await userEvent.type(screen.getByLabelText("Find a profile by name, taste or number"), "noir");
    expect(await screen.findByText("1 profile matching “noir”")).toBeInTheDocument();
    // The line can show before the debounced request leaves (the stub answers total 1 to every request): wait for it.
    const queries = () => fetch.mock.calls.map(([request]) => new URL(request.url).searchParams.get("q"));
    await waitFor(() => {
      expect(queries()).toContain("noir");
    });
  });
});
