/** Reading a user's history and feedback events. */
import type { FeedbackEvent, HistoryItem } from "../api/types";

/** The film the "Because you liked" row starts from: the most recent one rated 4+ (or liked). */
export function pickSeed(recent: HistoryItem[] | undefined): HistoryItem | undefined {
  return recent?.find((h) => (h.rating ?? 0) >= 4 || h.kind === "like") ?? recent?.[0];
}

/** The user's latest rating and latest like/dislike/watched marks for one film, from their feedback events. */
export function currentFeedback(events: FeedbackEvent[] | undefined, movieId: number) {
  let rating: number | null = null;
  let opinion: "like" | "dislike" | null = null;
  let watched = false;
  // Events come newest first: the first of each kind wins.
  for (const event of events ?? []) {
    if (event.movie_id !== movieId) continue;
    if (event.kind === "rating" && rating === null) rating = event.value;
    if ((event.kind === "like" || event.kind === "dislike") && opinion === null) opinion = event.kind;
    if (event.kind === "watched") watched = true;
  }
  return { rating, opinion, watched };
}

