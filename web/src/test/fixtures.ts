import type { ModelCard, MovieDetail, MovieMark, MovieSummary } from "../api/types";
import type { ModelEntry } from "../lib/report";

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

/** A film's details: the card's fields, and every optional detail empty unless `extra` sets it. */
export const movieDetail = (summary: MovieSummary, extra: Partial<MovieDetail> = {}): MovieDetail => ({
  ...summary,
  overview: null,
  tagline: null,
  keywords: [],
  cast: [],
  directors: [],
  runtime: null,
  language: null,
  imdb_id: null,
  tmdb_id: null,
  tags: [],
  ...extra,
});

/** A film's details (Heat, id 6) with a plot summary and nothing else optional. */
export const HEAT: MovieDetail = movieDetail(
  {
    movie_id: 6,
    title: "Heat",
    year: 1995,
    genres: ["Action"],
    poster_path: null,
    rating_mean: 3.9,
    rating_count: 102,
  },
  { overview: "A heist." },
);

/** One model's figures in the offline report (GET /api/models `evaluation`): the given test split, no
 * validation figures, epochs or comparisons unless `extra` sets them. */
export const modelEntry = (test: ModelEntry["test"], extra: Partial<ModelEntry> = {}): ModelEntry => ({
  valid: null,
  valid_source: "training",
  test,
  training_seconds: 3,
  refit_on_train_and_valid: true,
  epochs: [],
  config: {},
  learned: {},
  ndcg10_vs_ease: 1,
  vs_ease: null,
  liked_vs_ease: null,
  liked_vs_best: null,
  vs_best: null,
  ...extra,
});

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

/** Three models of the server's catalogue (GET /api/models `catalogue`), as models/catalogue.py words them. */
export const MODEL_CARDS: ModelCard[] = [
  { name: "two_tower", label: "Two-Tower", summary: "Puts you and every film on one map of taste.", trained: true },
  { name: "popularity", label: "Popularity", summary: "The films most people have rated.", trained: true },
  { name: "ease", label: "EASE", summary: "Finds films that the same people tend to rate together.", trained: true },
];
