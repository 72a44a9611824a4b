import { describe, expect, it } from "vitest";

import type { FeedbackEvent, HistoryItem } from "../api/types";
import { currentFeedback, pickSeed } from "./history";

const movie = (id: number) => ({ movie_id: id, title: `M${id}`, year: 2000, genres: [] });

describe("history helpers", () => {
  it("seeds 'Because you liked' with the most recent film rated 4 or more", () => {
    const recent: HistoryItem[] = [
      { movie: movie(1), rating: 2 },
      { movie: movie(2), rating: 4.5 },
      { movie: movie(3), rating: 5 },
    ];
    expect(pickSeed(recent)?.movie.movie_id).toBe(2);
    expect(pickSeed([{ movie: movie(7), rating: 1 }])?.movie.movie_id).toBe(7);
    expect(pickSeed([])).toBeUndefined();
  });

  it("reads the latest rating and like/dislike of a film from newest-first events", () => {
    const event = (id: number, movieId: number, kind: FeedbackEvent["kind"], value: number | null = null) => ({
      id,
      user_id: 1,
      movie_id: movieId,
      kind,
      value,
      created_at: "2026-01-01T00:00:00Z",
    });
    const events: FeedbackEvent[] = [
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
