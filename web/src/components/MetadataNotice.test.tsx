import { screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { useCatalogue } from "../api/queries";
import { renderAt, stubApi } from "../test/api";
import { MetadataNotice } from "./MetadataNotice";

/** Says when the catalogue answer has arrived, so a test can tell "hidden" from "not loaded yet". */
function Loaded() {
  return useCatalogue().data ? <p>catalogue loaded</p> : null;
}

describe("MetadataNotice", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("says what is missing and how to add it when no film has a plot summary", async () => {
    stubApi({ "/api/catalogue": { movies: 9742, with_overview: 0, with_poster: 0 } });
    renderAt(<MetadataNotice where="search" />, "/search");
    const notice = await screen.findByRole("complementary", { name: "Missing film details" });
    expect(notice).toHaveTextContent("this server has no plot summaries yet");
    expect(notice).toHaveTextContent("Search finds films by title, genre and viewers' tags");
    // Setup details are for whoever runs the server: on the About page, not in the film fan's way.
    expect(notice).not.toHaveTextContent("TMDB_API_KEY");
    expect(screen.getByRole("link", { name: "About this server" })).toHaveAttribute("href", "/about#film-details");
  });

  it("stays hidden when the catalogue has descriptions", async () => {
    stubApi({ "/api/catalogue": { movies: 9742, with_overview: 9523, with_poster: 4435 } });
    renderAt(
      <>
        <MetadataNotice where="details" />
        <Loaded />
      </>,
      "/movies/1",
    );
    await screen.findByText("catalogue loaded");
    expect(screen.queryByTestId("metadata-notice")).not.toBeInTheDocument();
  });
});
