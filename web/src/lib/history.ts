/** Reading a user's history and feedback events. */
import type { FeedbackEvent, HistoryItem } from "../api/types";

/** Whether a history entry says the user liked the film: a like, or a rating of 4 or more. */
export function isPositive(item: HistoryItem): boolean {
  return item.kind === "like" || (item.kind === "rating" && (item.value ?? 0) >= 4);
}

/** The film the "Because you liked" row starts from: the most recent positive one in the (newest-first) history. */
export function pickSeed(recent: HistoryItem[] | undefined): HistoryItem | undefined {
  return recent?.find(isPositive);
}

/** A short note for a history entry on a card: "You rated 4★", "You liked it". */
export function historyNote(item: HistoryItem): string {
  switch (item.kind) {
    case "rating":
      return item.value != null ? `You rated ${item.value}★` : "You rated it";
    case "like":
      return "You liked it";
    case "dislike":
      return "You disliked it";
    case "watched":
      return "You watched it";
    default:
      return item.kind;
  }
}

/** The user's latest rating and latest like/dislike and watched mark for one film, from newest-first events. */
export function currentFeedback(events: FeedbackEvent[] | undefined, movieId: number) {
  let rating: number | null = null;
  let opinion: "like" | "dislike" | null = null;
  let watched = false;
  for (const event of events ?? []) {
    if (event.movie_id !== movieId) continue;
    if (event.kind === "rating" && rating === null) rating = event.value;
    if ((event.kind === "like" || event.kind === "dislike") && opinion === null) opinion = event.kind;
    if (event.kind === "watched") watched = true;
  }
  return { rating, opinion, watched };
}
