/** TanStack Query hooks and the query keys that feedback invalidates. */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import * as api from "./endpoints";
import type { FeedbackIn, ModelName } from "./types";

export const keys = {
  health: ["health"] as const,
  users: (q: string, page: number) => ["users", q, page] as const,
  user: (userId: number) => ["user", userId] as const,
  userRatings: (userId: number, page: number) => ["user", userId, "ratings", page] as const,
  similarUsers: (userId: number) => ["user", userId, "similar"] as const,
  recommendations: (userId: number, model?: ModelName) =>
    model ? (["recommendations", userId, model] as const) : (["recommendations", userId] as const),
  popular: (genre?: string) => ["popular", genre ?? ""] as const,
  movie: (movieId: number) => ["movie", movieId] as const,
  similar: (movieId: number, userId?: number | null) => ["similar", movieId, userId ?? null] as const,
  home: (userId: number) => ["home", userId] as const,
  mark: (userId: number, movieId?: number) =>
    movieId === undefined ? (["mark", userId] as const) : (["mark", userId, movieId] as const),
  genres: ["genres"] as const,
  search: (params: api.SearchParams) => ["search", params] as const,
  suggest: (q: string) => ["suggest", q] as const,
  feedback: (userId: number) => ["feedback", userId] as const,
  models: ["models"] as const,
  catalogue: ["catalogue"] as const,
  access: ["access"] as const,
};

/** Backend health, polled so the banner clears by itself when the server comes back. */
export function useHealth() {
  return useQuery({
    queryKey: keys.health,
    queryFn: ({ signal }) => api.fetchHealth(signal),
    refetchInterval: 15_000,
    retry: false,
  });
}

export function useUsers(q: string, page: number, perPage = 24) {
  return useQuery({
    queryKey: keys.users(q, page),
    queryFn: ({ signal }) => api.fetchUsers(q, page, perPage, signal),
    placeholderData: keepPreviousData,
  });
}

export function useUser(userId: number | null) {
  return useQuery({
    queryKey: keys.user(userId ?? -1),
    queryFn: ({ signal }) => api.fetchUser(userId ?? -1, signal),
    enabled: userId !== null,
  });
}

/** One page of the user's ratings, newest first. */
export function useUserRatings(userId: number, page: number, perPage = 20) {
  return useQuery({
    queryKey: keys.userRatings(userId, page),
    queryFn: ({ signal }) => api.fetchUserRatings(userId, page, perPage, signal),
    enabled: Number.isInteger(userId) && userId > 0,
    placeholderData: keepPreviousData,
  });
}

/** People with similar taste. */
export function useSimilarUsers(userId: number, k = 8) {
  return useQuery({
    queryKey: keys.similarUsers(userId),
    queryFn: ({ signal }) => api.fetchSimilarUsers(userId, k, signal),
    enabled: Number.isInteger(userId) && userId > 0,
  });
}

export function useRecommendations(userId: number | null, model: ModelName, k = 12) {
  return useQuery({
    queryKey: keys.recommendations(userId ?? -1, model),
    queryFn: ({ signal }) => api.fetchRecommendations(userId ?? -1, model, k, signal),
    enabled: userId !== null,
  });
}

export function usePopular(k = 18, genre?: string) {
  return useQuery({
    queryKey: keys.popular(genre),
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
    queryKey: keys.similar(movieId ?? -1, userId),
    queryFn: ({ signal }) => api.fetchSimilar(movieId ?? -1, k, signal, userId ?? undefined),
    enabled: movieId !== null && movieId > 0,
  });
}

/** The user's home page, built on the server. */
export function useHome(userId: number | null) {
  return useQuery({
    queryKey: keys.home(userId ?? -1),
    queryFn: ({ signal }) => api.fetchHome(userId ?? -1, signal),
    enabled: userId !== null,
  });
}

/** The user's rating and marks of one film (from their whole history). */
export function useMovieMark(userId: number | null, movieId: number) {
  return useQuery({
    queryKey: keys.mark(userId ?? -1, movieId),
    queryFn: ({ signal }) => api.fetchMovieMark(userId ?? -1, movieId, signal),
    enabled: userId !== null && Number.isInteger(movieId) && movieId > 0,
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
    queryKey: keys.feedback(userId ?? -1),
    queryFn: ({ signal }) => api.fetchFeedback(userId ?? -1, signal),
    enabled: userId !== null,
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
export type FeedbackChange = FeedbackIn & { remove?: boolean };

/** Send feedback, then refetch everything that depends on the user's history so the rows show the new results. */
export function useSendFeedback() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (feedback: FeedbackChange) => {
      if (feedback.remove) await api.removeFeedback(feedback);
      else await api.postFeedback({ user_id: feedback.user_id, movie_id: feedback.movie_id, kind: feedback.kind, value: feedback.value ?? null });
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

/** Create a user from liked films (cold start); their first recommendations go straight into the cache. */
export function useCreateUser() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (liked: number[]) => api.createUser(liked),
    onSuccess: (created) => {
      client.setQueryData(keys.user(created.user.user_id), created.user);
      const recs = created.recommendations;
      if (isModelName(recs.model)) client.setQueryData(keys.recommendations(created.user.user_id, recs.model), recs);
    },
  });
}

function isModelName(name: string): name is ModelName {
  return ["hybrid", "bert4rec", "two_tower", "popular", "ease"].includes(name);
}
