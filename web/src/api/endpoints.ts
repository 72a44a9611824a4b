/** One function per backend endpoint the app uses; each returns the envelope's data, typed from the spec. */
import { client, envelope } from "./http";
import type {
  AccessInfo,
  CatalogueInfo,
  FeedbackEvent,
  FeedbackIn,
  Genre,
  GenreCount,
  Health,
  ModelName,
  ModelsInfo,
  MovieDetail,
  MovieMark,
  MovieSummary,
  NewUser,
  Page,
  Recommendations,
  SearchMode,
  ShownHomePage,
  ShownSearchResults,
  ShownSimilarMovies,
  SimilarUsers,
  Suggestion,
  UserDetail,
  UserRating,
  UserSummary,
} from "./types";

export interface SearchParams {
  q: string;
  mode: SearchMode;
  genre?: string | undefined;
  yearMin?: number | undefined;
  yearMax?: number | undefined;
  userId?: number | undefined;
  k?: number;
  /** Readings of the query to drop (`Understood.key`): their words are searched as plain words. */
  ignore?: string[];
}

/** GET /api/health: readiness, per capability (a 503 "not_ready" still means the server runs). */
export async function fetchHealth(signal?: AbortSignal): Promise<Health> {
  return (await envelope(client.GET("/api/health", { signal }))).data;
}

/** GET /api/users: one page of users matching `q` (an exact id first, a name, or a taste word), with their taste. */
export async function fetchUsers(q: string, page: number, pageSize: number, signal?: AbortSignal): Promise<Page<UserSummary>> {
  const body = await envelope(
    client.GET("/api/users", { params: { query: { q: q || undefined, page, page_size: pageSize } }, signal }),
  );
  return { items: body.data, total: body.meta.total };
}

/** GET /api/users/{id}: counts, top genres and recent history. */
export async function fetchUser(userId: number, signal?: AbortSignal): Promise<UserDetail> {
  return (await envelope(client.GET("/api/users/{user_id}", { params: { path: { user_id: userId } }, signal }))).data;
}

/** GET /api/users/{id}/ratings: one page of every film the user rated, newest first. */
export async function fetchUserRatings(
  userId: number,
  page: number,
  pageSize: number,
  signal?: AbortSignal,
): Promise<Page<UserRating>> {
  const params = { path: { user_id: userId }, query: { page, page_size: pageSize } };
  const body = await envelope(client.GET("/api/users/{user_id}/ratings", { params, signal }));
  return { items: body.data, total: body.meta.total };
}

/** GET /api/users/{id}/similar: people with similar taste (Two-Tower, else shared distinctive traits). */
export async function fetchSimilarUsers(userId: number, k: number, signal?: AbortSignal): Promise<SimilarUsers> {
  const params = { path: { user_id: userId }, query: { k } };
  return (await envelope(client.GET("/api/users/{user_id}/similar", { params, signal }))).data;
}

/** POST /api/users: a new user from the films they like, with their first recommendations and the profile's secret. */
export async function createUser(likedMovieIds: number[]): Promise<NewUser> {
  return (await envelope(client.POST("/api/users", { body: { liked_movie_ids: likedMovieIds, display_name: null } }))).data;
}

/** GET /api/recommendations for one user from one model. */
export async function fetchRecommendations(
  userId: number,
  model: ModelName,
  k: number,
  signal?: AbortSignal,
): Promise<Recommendations> {
  const query = { user_id: userId, model, k };
  return (await envelope(client.GET("/api/recommendations", { params: { query }, signal }))).data;
}

/** GET /api/users/{id}/home: the user's rows, built on the server (none shows a film they touched), each with the
 * impression it was logged as (meta.impression_ids), so a click or a mark can say which list it came from. */
export async function fetchHome(userId: number, signal?: AbortSignal): Promise<ShownHomePage> {
  const body = await envelope(client.GET("/api/users/{user_id}/home", { params: { path: { user_id: userId } }, signal }));
  const ids: Record<string, string> = body.meta.impression_ids;
  return { ...body.data, rows: body.data.rows.map((row) => ({ ...row, impression_id: ids[row.id] ?? null })) };
}

/** POST /api/impressions/{id}/clicks: the user opened `movieId` from the list logged as `impressionId`. */
export async function postClick(impressionId: string, movieId: number): Promise<void> {
  const params = { path: { impression_id: impressionId } };
  await envelope(client.POST("/api/impressions/{impression_id}/clicks", { params, body: { movie_id: movieId } }));
}

/** GET /api/users/{id}/movies/{movie_id}: the user's rating (data set or app) and marks of one film. */
export async function fetchMovieMark(userId: number, movieId: number, signal?: AbortSignal): Promise<MovieMark> {
  const params = { path: { user_id: userId, movie_id: movieId } };
  return (await envelope(client.GET("/api/users/{user_id}/movies/{movie_id}", { params, signal }))).data;
}

/** GET /api/movies/popular, optionally within one genre (and without the films a user touched). */
export async function fetchPopular(k: number, genre?: string, signal?: AbortSignal, userId?: number): Promise<MovieSummary[]> {
  const query = { k, genre: (genre || undefined) as Genre | undefined, user_id: userId };
  return (await envelope(client.GET("/api/movies/popular", { params: { query }, signal }))).data;
}

/** GET /api/movies/{id}. */
export async function fetchMovie(movieId: number, signal?: AbortSignal): Promise<MovieDetail> {
  return (await envelope(client.GET("/api/movies/{movie_id}", { params: { path: { movie_id: movieId } }, signal })))
    .data;
}

/** GET /api/movies/{id}/similar: collaborative (Two-Tower) and content neighbours (none the user touched); with a
 * user, each list with the impression it was logged as (meta.impression_ids), so opening a film can be credited. */
export async function fetchSimilar(
  movieId: number,
  k: number,
  signal?: AbortSignal,
  userId?: number,
): Promise<ShownSimilarMovies> {
  const params = { path: { movie_id: movieId }, query: { k, kind: "both" as const, user_id: userId } };
  const body = await envelope(client.GET("/api/movies/{movie_id}/similar", { params, signal }));
  // Read as possibly absent: the spec gives impression_ids a default, so an answer may leave it out.
  const ids = body.meta.impression_ids as Partial<Record<string, string>> | undefined;
  return {
    ...body.data,
    impression_ids: { collaborative: ids?.collaborative ?? null, content: ids?.content ?? null },
  };
}

/** GET /api/genres. */
export async function fetchGenres(signal?: AbortSignal): Promise<GenreCount[]> {
  return (await envelope(client.GET("/api/genres", { signal }))).data;
}

/** GET /api/search; with a user, the results come with the impression they were logged as (meta.impression_id). */
export async function searchMovies(params: SearchParams, signal?: AbortSignal): Promise<ShownSearchResults> {
  const query = {
    q: params.q,
    mode: params.mode,
    genre: (params.genre || undefined) as Genre | undefined,
    year_min: params.yearMin,
    year_max: params.yearMax,
    user_id: params.userId,
    k: params.k ?? 24,
    ignore: params.ignore?.length ? params.ignore : undefined,
  };
  const body = await envelope(client.GET("/api/search", { params: { query }, signal }));
  return { ...body.data, impression_id: body.meta.impression_id ?? null };
}

/** GET /api/search/suggest: titles completing what was typed so far. */
export async function fetchSuggestions(q: string, signal?: AbortSignal): Promise<Suggestion[]> {
  return (await envelope(client.GET("/api/search/suggest", { params: { query: { q, k: 8 } }, signal }))).data;
}

/** POST /api/feedback. */
export async function postFeedback(feedback: FeedbackIn): Promise<FeedbackEvent> {
  return (await envelope(client.POST("/api/feedback", { body: feedback }))).data;
}

/** DELETE /api/feedback: take a mark back (un-like, un-watch, interested again). */
export async function removeFeedback(feedback: Pick<FeedbackIn, "user_id" | "movie_id" | "kind">): Promise<void> {
  const query = { user_id: feedback.user_id, movie_id: feedback.movie_id, kind: feedback.kind };
  await envelope(client.DELETE("/api/feedback", { params: { query } }));
}

/** GET /api/users/{id}/feedback: the user's events in the app, newest first. */
export async function fetchFeedback(userId: number, signal?: AbortSignal): Promise<FeedbackEvent[]> {
  const params = { path: { user_id: userId }, query: { limit: 1000 } };
  return (await envelope(client.GET("/api/users/{user_id}/feedback", { params, signal }))).data;
}

/** GET /api/models: models, versions and the evaluation report. */
export async function fetchModels(signal?: AbortSignal): Promise<ModelsInfo> {
  return (await envelope(client.GET("/api/models", { signal }))).data;
}

/** GET /api/access: whether the server runs in local demo mode (anyone may rate as any MovieLens user). */
export async function fetchAccess(signal?: AbortSignal): Promise<AccessInfo> {
  return (await envelope(client.GET("/api/access", { signal }))).data;
}

/** GET /api/catalogue: how many films have a plot summary and a poster (0: no metadata was added). */
export async function fetchCatalogue(signal?: AbortSignal): Promise<CatalogueInfo> {
  return (await envelope(client.GET("/api/catalogue", { signal }))).data;
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

/** GET /api/users/{id}/ratings.csv: the user's ratings in MovieLens's ratings.csv layout (owner only). */
export async function downloadRatings(userId: number): Promise<Blob> {
  const params = { path: { user_id: userId } };
  return envelope(client.GET("/api/users/{user_id}/ratings.csv", { params, parseAs: "blob" }));
}

/** DELETE /api/users/{id}: the profile and every row of its data (app profiles, owner only). */
export async function deleteUser(userId: number): Promise<void> {
  await envelope(client.DELETE("/api/users/{user_id}", { params: { path: { user_id: userId } } }));
}

/** POST /api/sign-in: which profile a key belongs to (the key then goes with every request, as onboarding's). */
export async function signIn(key: string): Promise<{ user_id: number; display_name: string }> {
  return (await envelope(client.POST("/api/sign-in", { body: { key } }))).data;
}
