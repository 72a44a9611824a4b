import { describe, expect, it } from "vitest";

import type { FeedbackEvent, HistoryItem, MovieSummary } from "../api/types";
import { currentFeedback, historyNote, pickSeed } from "./history";

const movie = (id: number): MovieSummary => ({
  movie_id: id,
  title: `M${id}`,
  year: 2000,
  genres: [],
  poster_path: null,
  rating_mean: null,
  rating_count: 0,
});

const item = (id: number, kind: string, value: number | null = null): HistoryItem => ({
  movie: movie(id),
  kind,
  value,
  at: "2026-01-01T00:00:00Z",
  source: "dataset",
});

describe("history helpers", () => {
  it("seeds 'Because you liked' with the most recent film rated 4 or more, or liked", () => {
    expect(pickSeed([item(1, "rating", 2), item(2, "rating", 4.5), item(3, "rating", 5)])?.movie.movie_id).toBe(2);
    expect(pickSeed([item(1, "watched"), item(4, "like")])?.movie.movie_id).toBe(4);
    expect(pickSeed([item(7, "rating", 1)])).toBeUndefined();
    expect(pickSeed([])).toBeUndefined();
  });

  it("describes history entries for cards", () => {
    expect(historyNote(item(1, "rating", 3.5))).toBe("You rated 3.5★");
    expect(historyNote(item(1, "dislike"))).toBe("You disliked it");
  });

  it("reads the latest rating and like/dislike of a film from newest-first events", () => {
    const event = (id: number, movieId: number, kind: string, value: number | null = null): FeedbackEvent => ({
      id,
      user_id: 1,
      movie_id: movieId,
      title: `M${movieId}`,
      kind,
      value,
      created_at: "2026-01-01T00:00:00Z",
    });
    const events = [
      event(5, 10, "dislike"),
      event(4, 10, "rating", 2),
      event(3, 11, "rating", 5),
      event(2, 10, "like"),
      event(1, 10, "rating", 4),
    ];
    expect(currentFeedback(events, 10)).toEqual({ rating: 2, opinion: "dislike", watched: false });
    expect(currentFeedback(events, 12)).toEqual({ rating: null, opinion: null, watched: false });
  });
});
