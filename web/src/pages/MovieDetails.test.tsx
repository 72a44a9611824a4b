import { screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { keys } from "../api/queries";
import type { CatalogueInfo, MovieDetail } from "../api/types";
import { renderAt, stubApi } from "../test/api";
import { movieDetail } from "../test/fixtures";
import MovieDetails from "./MovieDetails";

const TOY_STORY: MovieDetail = movieDetail(
  {
    movie_id: 1,
    title: "Toy Story",
    year: 1995,
    genres: ["Adventure", "Animation", "Children", "Comedy", "Fantasy"],
    poster_path: null,
    rating_mean: 3.921,
    rating_count: 215,
  },
  { imdb_id: "tt0114709", tmdb_id: 862, tags: ["pixar", "fun"] },
);
const NO_METADATA: CatalogueInfo = { movies: 9742, with_overview: 0, with_poster: 0 };
const ENRICHED: CatalogueInfo = { movies: 9742, with_overview: 9523, with_poster: 4435 };

function renderMovie(movie: MovieDetail, catalogue: CatalogueInfo) {
  stubApi({
    "/api/movies/1": movie,
    "/api/movies/1/similar": { movie_id: 1, collaborative: [], content: [] },
    "/api/catalogue": catalogue,
  });
  return renderAt(<MovieDetails />, "/movies/1", "/movies/:movieId");
}

describe("MovieDetails", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("shows the viewers' tags as chips that search for them", async () => {
    renderMovie(TOY_STORY, NO_METADATA);
    const chips = await screen.findByTestId("movie-tags");
    const links = within(chips).getAllByRole("link");
    expect(links.map((a) => a.textContent)).toEqual(["pixar", "fun"]);
    expect(links[0]).toHaveAttribute("href", "/search?q=pixar");
    expect(screen.getByRole("heading", { name: "Tagged by viewers" })).toBeInTheDocument();
  });

  it("says there is no plot summary, in plain words, when the catalogue has none", async () => {
    renderMovie(TOY_STORY, NO_METADATA);
    const notice = await screen.findByTestId("metadata-notice");
    expect(notice).toHaveTextContent("No plot summary for this film yet.");
    expect(notice).not.toHaveTextContent("TMDB_API_KEY");
  });

  it("shows the overview, and neither notice nor chips, for an enriched film without tags", async () => {
    const overview = "Led by Woody, Andy's toys live happily in his room until Andy's birthday brings Buzz Lightyear.";
    renderMovie({ ...TOY_STORY, overview, tags: [] }, ENRICHED);
    expect(await screen.findByText(overview)).toBeInTheDocument();
    expect(screen.queryByTestId("movie-tags")).not.toBeInTheDocument();
    expect(screen.queryByTestId("metadata-notice")).not.toBeInTheDocument();
  });

  it("shows no notice for one film without a summary in a catalogue that has them", async () => {
    const client = renderMovie(TOY_STORY, ENRICHED);
    await screen.findByTestId("movie-title");
    await waitFor(() => {
      expect(client.getQueryState(keys.catalogue)?.status).toBe("success");
    });
    expect(screen.queryByTestId("metadata-notice")).not.toBeInTheDocument();
  });
});
