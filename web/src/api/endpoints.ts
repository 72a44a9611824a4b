/** One function per backend endpoint the app uses (issue 5's list); each returns the envelope's data. */
import { getEnvelope, getJson, postJson } from "./http";
import type {
  FeedbackEvent,
  FeedbackIn,
  Genre,
  ModelName,
  ModelsReport,
  MovieDetail,
  MovieSummary,
  Page,
  RecommendationList,
  SearchHit,
  SearchMode,
  Suggestion,
  UserDetail,
  UserSummary,
} from "./types";

export interface SearchParams {
  q: string;
  mode: SearchMode;
  genre?: string | undefined;
  yearMin?: number | undefined;
  yearMax?: number | undefined;
  k?: number;
}

/** GET /api/health: 200 when every part is loaded. */
export function fetchHealth(signal?: AbortSignal): Promise<unknown> {
  return getJson<unknown>("/api/health", undefined, signal);
}

/** GET /api/users: one page of users matching `q`, with stats. */
export async function fetchUsers(q: string, page: number, perPage: number, signal?: AbortSignal): Promise<Page<UserSummary>> {
  const envelope = await getEnvelope<UserSummary[]>("/api/users", { q, page, per_page: perPage }, signal);
  const total = typeof envelope.meta?.total === "number" ? envelope.meta.total : envelope.data.length;
  return { items: envelope.data, total };
}

/** GET /api/users/<id>: counts, top genres and recent history. */
export function fetchUser(userId: number, signal?: AbortSignal): Promise<UserDetail> {
  return getJson<UserDetail>(`/api/users/${userId}`, undefined, signal);
}

/** POST /api/users: a new user from the films they like (cold start). */
export function createUser(likedMovieIds: number[]): Promise<UserSummary> {
  return postJson<UserSummary>("/api/users", { liked_movie_ids: likedMovieIds });
}

/** GET /api/recommendations for one user from one model. */
export function fetchRecommendations(
  userId: number,
  model: ModelName,
  k: number,
  signal?: AbortSignal,
): Promise<RecommendationList> {
  return getJson<RecommendationList>("/api/recommendations", { user_id: userId, model, k }, signal);
}

/** GET /api/movies/popular. */
export function fetchPopular(k: number, genre?: string, signal?: AbortSignal): Promise<MovieSummary[]> {
  return getJson<MovieSummary[]>("/api/movies/popular", { k, genre }, signal);
}

/** GET /api/movies/<id>. */
export function fetchMovie(movieId: number, signal?: AbortSignal): Promise<MovieDetail> {
  return getJson<MovieDetail>(`/api/movies/${movieId}`, undefined, signal);
}

/** GET /api/movies/<id>/similar (collaborative or content). */
export function fetchSimilar(
  movieId: number,
  method: "collaborative" | "content",
  k: number,
  signal?: AbortSignal,
): Promise<RecommendationList> {
  return getJson<RecommendationList>(`/api/movies/${movieId}/similar`, { method, k }, signal);
}

/** GET /api/genres. */
export function fetchGenres(signal?: AbortSignal): Promise<Genre[]> {
  return getJson<Genre[]>("/api/genres", undefined, signal);
}

/** GET /api/search. */
export function searchMovies(params: SearchParams, signal?: AbortSignal): Promise<SearchHit[]> {
  return getJson<SearchHit[]>(
    "/api/search",
    {
      q: params.q,
      mode: params.mode,
      genre: params.genre,
      year_min: params.yearMin,
      year_max: params.yearMax,
      k: params.k ?? 24,
    },
    signal,
  );
}

/** GET /api/search/suggest: titles completing what was typed so far. */
export function fetchSuggestions(q: string, signal?: AbortSignal): Promise<Suggestion[]> {
  return getJson<Suggestion[]>("/api/search/suggest", { q, k: 8 }, signal);
}

/** POST /api/feedback. */
export function postFeedback(feedback: FeedbackIn): Promise<FeedbackEvent> {
  return postJson<FeedbackEvent>("/api/feedback", feedback);
}

/** GET /api/users/<id>/feedback: the user's events in the app, newest first. */
export function fetchFeedback(userId: number, signal?: AbortSignal): Promise<FeedbackEvent[]> {
  return getJson<FeedbackEvent[]>(`/api/users/${userId}/feedback`, undefined, signal);
}

/** GET /api/models: models, versions and the evaluation report. */
export function fetchModels(signal?: AbortSignal): Promise<ModelsReport> {
  return getJson<ModelsReport>("/api/models", undefined, signal);
}

/** GET /metrics: the Prometheus text exposition (not JSON, not enveloped). */
export async function fetchMetricsText(signal?: AbortSignal): Promise<string> {
  let response: Response;
  try {
    response = await fetch("/metrics", signal ? { signal } : undefined);
  } catch {
    throw new Error("The metrics endpoint cannot be reached.");
  }
  if (!response.ok) throw new Error(`The metrics endpoint answered HTTP ${response.status}.`);
  return response.text();
}
