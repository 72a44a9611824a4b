/** TanStack Query hooks and the query keys that feedback invalidates.
 *
 * A key holds every parameter that changes the answer (k, page size, ...), so two screens asking for different
 * answers never share a cache entry. A query waiting for an id (no user chosen yet) passes `skipToken` as its
 * queryFn instead of fetching a made-up id; its key holds the `null`. */
import { keepPreviousData, skipToken, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import * as api from "./endpoints";
import type { FeedbackIn, ModelName } from "./types";

/** The server's default k (DEFAULT_K in the API's schemas): what POST /api/users recommends a new user with. */
export const SERVER_DEFAULT_K = 20;

export const keys = {
  health: ["health"] as const,
  users: (q: string, page: number, perPage: number) => ["users", q, page, perPage] as const,
  user: (userId: number | null) => ["user", userId] as const,
  userRatings: (userId: number, page: number, perPage: number) => ["user", userId, "ratings", page, perPage] as const,
  similarUsers: (userId: number, k: number) => ["user", userId, "similar", k] as const,
  /** Without k (or model): a prefix matching every k (and model) of the user, as feedback invalidates them. */
  recommendations: (userId: number | null, model?: string, k?: number) =>
    model === undefined
      ? (["recommendations", userId] as const)
      : k === undefined
        ? (["recommendations", userId, model] as const)
        : (["recommendations", userId, model, k] as const),
  popular: (k: number, genre?: string) => ["popular", k, genre ?? ""] as const,
  movie: (movieId: number) => ["movie", movieId] as const,
  similar: (movieId: number | null, userId: number | null, k: number) => ["similar", movieId, userId, k] as const,
  home: (userId: number | null) => ["home", userId] as const,
  mark: (userId: number | null, movieId?: number) =>
    movieId === undefined ? (["mark", userId] as const) : (["mark", userId, movieId] as const),
  genres: ["genres"] as const,
  search: (params: api.SearchParams) => ["search", params] as const,
  suggest: (q: string) => ["suggest", q] as const,
  feedback: (userId: number | null) => ["feedback", userId] as const,
  models: ["models"] as const,
  catalogue: ["catalogue"] as const,
  access: ["access"] as const,
};

/** Backend health, polled so the banner clears by itself when the server comes back, and every few seconds while a
 * first run still trains models behind the server (the rows switch to each as it is ready). */
export function useHealth() {
  return useQuery({
    queryKey: keys.health,
    queryFn: ({ signal }) => api.fetchHealth(signal),
    refetchInterval: (query) => (query.state.data?.preparing ? 4_000 : 15_000),
    retry: false,
  });
}

export function useUsers(q: string, page: number, perPage = 24) {
  return useQuery({
    queryKey: keys.users(q, page, perPage),
    queryFn: ({ signal }) => api.fetchUsers(q, page, perPage, signal),
    placeholderData: keepPreviousData,
  });
}

export function useUser(userId: number | null) {
  return useQuery({
    queryKey: keys.user(userId),
    queryFn: userId === null ? skipToken : ({ signal }) => api.fetchUser(userId, signal),
  });
}

/** One page of the user's ratings, newest first. */
export function useUserRatings(userId: number, page: number, perPage = 20) {
  return useQuery({
    queryKey: keys.userRatings(userId, page, perPage),
    queryFn: ({ signal }) => api.fetchUserRatings(userId, page, perPage, signal),
    enabled: Number.isInteger(userId) && userId > 0,
    placeholderData: keepPreviousData,
  });
}

/** People with similar taste. */
export function useSimilarUsers(userId: number, k = 8) {
  return useQuery({
    queryKey: keys.similarUsers(userId, k),
    queryFn: ({ signal }) => api.fetchSimilarUsers(userId, k, signal),
    enabled: Number.isInteger(userId) && userId > 0,
  });
}

export function useRecommendations(userId: number | null, model: ModelName, k = SERVER_DEFAULT_K) {
  return useQuery({
    queryKey: keys.recommendations(userId, model, k),
    queryFn: userId === null ? skipToken : ({ signal }) => api.fetchRecommendations(userId, model, k, signal),
  });
}

export function usePopular(k = 18, genre?: string) {
  return useQuery({
    queryKey: keys.popular(k, genre),
    queryFn: ({ signal }) => api.fetchPopular(k, genre, signal),
    staleTime: 5 * 60_000,
  });
}

export function useMovie(movieId: number) {
  return useQuery({
    queryKey: keys.movie(movieId),
    queryFn: ({ signal }) => api.fetchMovie(movieId, signal),
    enabled: Number.isInteger(movieId) && movieId > 0,
  });
}

/** Films like this one; with a user, none of the films they touched. */
export function useSimilar(movieId: number | null, userId: number | null = null, k = 12) {
  return useQuery({
    queryKey: keys.similar(movieId, userId, k),
    queryFn:
      movieId === null || movieId <= 0
        ? skipToken
        : ({ signal }) => api.fetchSimilar(movieId, k, signal, userId ?? undefined),
  });
}

/** The user's home page, built on the server. */
export function useHome(userId: number | null) {
  return useQuery({
    queryKey: keys.home(userId),
    queryFn: userId === null ? skipToken : ({ signal }) => api.fetchHome(userId, signal),
  });
}

/** The user's rating and marks of one film (from their whole history). */
export function useMovieMark(userId: number | null, movieId: number) {
  return useQuery({
    queryKey: keys.mark(userId, movieId),
    queryFn:
      userId === null || !Number.isInteger(movieId) || movieId <= 0
        ? skipToken
        : ({ signal }) => api.fetchMovieMark(userId, movieId, signal),
  });
}

export function useGenres() {
  return useQuery({ queryKey: keys.genres, queryFn: ({ signal }) => api.fetchGenres(signal), staleTime: Infinity });
}

export function useSearch(params: api.SearchParams) {
  return useQuery({
    queryKey: keys.search(params),
    queryFn: ({ signal }) => api.searchMovies(params, signal),
    // An empty query with a filter browses the filtered films.
    enabled: params.q.trim().length > 0 || Boolean(params.genre) || params.yearMin !== undefined || params.yearMax !== undefined,
    placeholderData: keepPreviousData,
  });
}

export function useSuggestions(q: string) {
  return useQuery({
    queryKey: keys.suggest(q),
    queryFn: ({ signal }) => api.fetchSuggestions(q, signal),
    enabled: q.trim().length >= 2,
    staleTime: 60_000,
  });
}

export function useFeedback(userId: number | null) {
  return useQuery({
    queryKey: keys.feedback(userId),
    queryFn: userId === null ? skipToken : ({ signal }) => api.fetchFeedback(userId, signal),
  });
}

/** Whether the server runs in local demo mode; it changes only when the server restarts. */
export function useAccess() {
  return useQuery({ queryKey: keys.access, queryFn: ({ signal }) => api.fetchAccess(signal), staleTime: Infinity });
}

/** How much metadata the catalogue has; it changes only when the server restarts on new data. */
export function useCatalogue() {
  return useQuery({ queryKey: keys.catalogue, queryFn: ({ signal }) => api.fetchCatalogue(signal), staleTime: Infinity });
}

export function useModels() {
  return useQuery({ queryKey: keys.models, queryFn: ({ signal }) => api.fetchModels(signal) });
}

/** A mark to set, or (remove: true) to take back. */
/** Log that the user opened `movieId` from the list logged as `impressionId`; a failure is only logged to the console:
 * online evaluation must never get in the way of the person. */
export function recordClick(impressionId: string, movieId: number): void {
  api.postClick(impressionId, movieId).catch((error: unknown) => {
    console.warn("click not logged", error);
  });
}

/** A mark to send or (with `remove`) take back; `impression_id` names the list it was given from, when known. */
export type FeedbackChange = Omit<FeedbackIn, "impression_id"> & { impression_id?: string | null; remove?: boolean };

/** Send feedback, then refetch everything that depends on the user's history so the rows show the new results. */
export function useSendFeedback() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (feedback: FeedbackChange) => {
      if (feedback.remove) await api.removeFeedback(feedback);
      else
        await api.postFeedback({
          user_id: feedback.user_id,
          movie_id: feedback.movie_id,
          kind: feedback.kind,
          value: feedback.value ?? null,
          impression_id: feedback.impression_id ?? null,
        });
    },
    onSuccess: async (_event, feedback) => {
      // refetchType "all": the home rows are not on screen now; refetch them at once so they are fresh on return.
      await Promise.all([
        client.invalidateQueries({ queryKey: keys.home(feedback.user_id), refetchType: "all" }),
        client.invalidateQueries({ queryKey: keys.recommendations(feedback.user_id), refetchType: "all" }),
        client.invalidateQueries({ queryKey: keys.user(feedback.user_id), refetchType: "all" }),
        client.invalidateQueries({ queryKey: keys.feedback(feedback.user_id) }),
        client.invalidateQueries({ queryKey: keys.mark(feedback.user_id) }),
        client.invalidateQueries({ queryKey: keys.movie(feedback.movie_id) }),
        client.invalidateQueries({ queryKey: ["similar"] }),
      ]);
    },
  });
}

/** Create a user from liked films (cold start); their first recommendations (the server's default k) go straight
 * into the cache. */
export function useCreateUser() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (liked: number[]) => api.createUser(liked),
    onSuccess: (created) => {
      client.setQueryData(keys.user(created.user.user_id), created.user);
      const recs = created.recommendations;
      client.setQueryData(keys.recommendations(created.user.user_id, recs.model, SERVER_DEFAULT_K), recs);
    },
  });
}

