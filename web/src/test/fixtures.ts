import type { MovieDetail, MovieMark, MovieSummary } from "../api/types";

/** A film card as the API lists it; only the id and title vary between tests. */
export const movieSummary = (id: number, title: string): MovieSummary => ({
  movie_id: id,
  title,
  year: 1950,
  genres: ["Film-Noir"],
  poster_path: null,
  rating_mean: 4,
  rating_count: 10,
});

/** A film's details (Heat, id 6) with a plot summary and nothing else optional. */
export const HEAT: MovieDetail = {
  movie_id: 6,
  title: "Heat",
  year: 1995,
  genres: ["Action"],
  poster_path: null,
  rating_mean: 3.9,
  rating_count: 102,
  overview: "A heist.",
  tagline: null,
  keywords: [],
  cast: [],
  directors: [],
  runtime: null,
  language: null,
  imdb_id: null,
  tmdb_id: null,
  tags: [],
};

/** What a user who never touched Heat has done with it: nothing. */
export const NO_MARK: MovieMark = {
  movie_id: 6,
  rating: null,
  rating_source: null,
  liked: false,
  disliked: false,
  watched: false,
  dismissed: false,
};
