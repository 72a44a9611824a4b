import { screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { renderAt, stubApi } from "../test/api";
import SearchPage from "./SearchPage";

describe("SearchPage", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("says search cannot match what films are about when there are no plot summaries", async () => {
    stubApi({ "/api/catalogue": { movies: 1682, with_overview: 0, with_poster: 0 }, "/api/genres": [] });
    renderAt(<SearchPage />, "/search");
    const notice = await screen.findByRole("complementary", { name: "Missing film details" });
    expect(notice).toHaveTextContent("but not what a film is about");
    expect(notice).toHaveTextContent("make run");
  });
});
