import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MemoryRouter, Route, Routes, useLocation } from "react-router";

import { SessionProvider } from "../lib/session";
import { stubApi } from "../test/api";
import { Layout } from "./Layout";

function Picker() {
  const state = useLocation().state as { missingUser?: number } | null;
  return <p>picker, missing user {state?.missingUser ?? "none"}</p>;
}

function renderApp(url: string) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={client}>
      <SessionProvider>
        <MemoryRouter initialEntries={[url]}>
          <Routes>
            <Route element={<Layout />}>
              <Route path="users" element={<Picker />} />
              <Route path="search" element={<p>search page</p>} />
              <Route path="movies/:movieId" element={<p>film page</p>} />
            </Route>
          </Routes>
        </MemoryRouter>
      </SessionProvider>
    </QueryClientProvider>,
  );
}

describe("Layout", () => {
  beforeEach(() => {
    window.localStorage.setItem("movie-genie.theme", "light"); // jsdom has no matchMedia
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    window.localStorage.clear();
  });

  it.each(["/search?q=robots", "/movies/1"])("sends a stored user that no longer exists from %s to the picker", async (url) => {
    window.localStorage.setItem("movie-genie.user", "999");
    stubApi({}); // every path answers 404, /api/users/999 included
    renderApp(url);
    expect(await screen.findByText("picker, missing user 999")).toBeInTheDocument();
  });

  it("keeps a known user on the page", async () => {
    window.localStorage.setItem("movie-genie.user", "7");
    stubApi({ "/api/users/7": { user_id: 7, display_name: "u7", source: "movielens", created_at: "2026-01-01T00:00:00Z" } });
    renderApp("/search");
    expect(await screen.findByText("search page")).toBeInTheDocument();
  });
});
