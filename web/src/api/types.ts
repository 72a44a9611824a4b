/**
 * The shapes the screens use. Provisional until web/openapi.json (the backend's spec) lands; then these become
 * aliases of the generated `components["schemas"]` types so a backend change breaks the build, not the page.
 */

export type ModelName = "hybrid" | "bert4rec" | "two_tower" | "popular";
export type SearchMode = "semantic" | "title" | "hybrid";
export type FeedbackKind = "rating" | "like" | "dislike" | "watched";

export interface MovieSummary {
  movie_id: number;
  title: string;
  year: number | null;
  genres: string[];
  poster_path?: string | null;
  rating_mean?: number | null;
  rating_count?: number;
}

export interface MovieDetail extends MovieSummary {
  overview?: string | null;
  tagline?: string | null;
  keywords?: string[] | null;
  cast?: string[] | null;
  directors?: string[] | null;
  runtime?: number | null;
  language?: string | null;
  imdb_id?: string | null;
  tmdb_id?: number | null;
}

export interface Recommendation {
  movie: MovieSummary;
  score: number;
  reason: string;
}

export interface RecommendationList {
  model: string;
  items: Recommendation[];
}

export interface UserSummary {
  user_id: number;
  display_name: string;
  source: string;
  rating_count: number;
  top_genres: string[];
}

export interface HistoryItem {
  movie: MovieSummary;
  rating: number | null;
  kind?: string;
  timestamp?: number | string | null;
}

export interface UserDetail extends UserSummary {
  recent: HistoryItem[];
}

export interface SearchHit {
  movie: MovieSummary;
  score: number;
}

export interface Suggestion {
  movie_id: number;
  title: string;
  year: number | null;
}

export interface Genre {
  name: string;
  count: number;
}

export interface FeedbackIn {
  user_id: number;
  movie_id: number;
  kind: FeedbackKind;
  value?: number;
}

export interface FeedbackEvent {
  id: number;
  user_id: number;
  movie_id: number;
  kind: FeedbackKind;
  value: number | null;
  created_at: string;
}

export interface MetricValue {
  value: number;
  ci_low?: number | null;
  ci_high?: number | null;
}

export interface ModelInfo {
  name: string;
  version?: string | null;
  metrics: Record<string, MetricValue>;
  curves?: Record<string, number[]>;
}

export interface ModelsReport {
  models: ModelInfo[];
  protocol?: string | null;
}

export interface Page<T> {
  items: T[];
  total: number;
}
