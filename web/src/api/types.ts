/**
 * The shapes the screens use, taken from the types generated from the backend's OpenAPI spec (schema.d.ts, made by
 * `npm run gen:api` from web/openapi.json): a backend change that breaks the app breaks `tsc`, not the page.
 */
import type { components, operations } from "./schema";

type Schemas = components["schemas"];
/** A MovieLens genre: the spec's enum (the app takes them from GET /api/genres, which lists only these). */
export type Genre = NonNullable<NonNullable<operations["browse_movies"]["parameters"]["query"]>["genre"]>;

export type MovieSummary = Schemas["MovieSummary"];
export type MovieDetail = Schemas["MovieDetail"];
export type ScoredMovie = Schemas["ScoredMovie"];
export type Recommendations = Schemas["Recommendations"];
export type SimilarMovies = Schemas["SimilarMovies"];
/** A film's neighbours as the app shows them: each list with the impression it was logged as (null: not logged, e.g.
 * no user chosen). */
export type ShownSimilarMovies = SimilarMovies & { impression_ids: Record<SimilarKind, string | null> };
export type SimilarKind = "collaborative" | "content";
export type SearchHit = Schemas["SearchHit"];
export type SearchResults = Schemas["SearchResults"];
/** Search results as the app shows them: with the impression they were logged as (null: not logged, e.g. no user). */
export type ShownSearchResults = SearchResults & { impression_id: string | null };
export type Suggestion = Schemas["Suggestion"];
/** How part of a search query was read (a person, genre, decade, mood or theme): the app shows it as a chip. */
export type Understood = Schemas["Understood"];
export type GenreCount = Schemas["GenreCount"];
export type UserSummary = Schemas["UserSummary"];
export type UserDetail = Schemas["UserDetail"];
export type Trait = Schemas["Trait"];
export type UserRating = Schemas["UserRating"];
export type SimilarUsers = Schemas["SimilarUsers"];
export type HistoryItem = Schemas["HistoryItem"];
export type NewUser = Schemas["NewUser"];
export type FeedbackEvent = Schemas["Feedback"];
export type FeedbackIn = Schemas["FeedbackBody"];
export type ModelCard = Schemas["ModelCard"];
export type ModelInfo = Schemas["ModelInfo"];
export type ModelsInfo = Schemas["ModelsInfo"];
export type ModelVersionInfo = Schemas["ModelVersionInfo"];
export type PairedDifference = Schemas["PairedDifference"];
export type OnlineReport = Schemas["OnlineReport"];
export type VariantReport = Schemas["VariantReport"];
export type InterleavingReport = Schemas["InterleavingReport"];
export type Estimate = Schemas["Estimate"];
export type Health = Schemas["Health"];
export type HomePage = Schemas["HomePage"];
export type HomeRow = Schemas["HomeRow"];
/** A home row as the app shows it: with the impression it was logged as (null: not logged, e.g. the history row). */
export type ShownHomeRow = HomeRow & { impression_id: string | null };
export type ShownHomePage = Omit<HomePage, "rows"> & { rows: ShownHomeRow[] };
export type HomeItem = Schemas["HomeItem"];
export type MovieMark = Schemas["Mark"];
export type CatalogueInfo = Schemas["CatalogueInfo"];
export type AccessInfo = Schemas["AccessInfo"];

export type ModelName = NonNullable<NonNullable<operations["recommend_movies"]["parameters"]["query"]>["model"]>;
export type SearchMode = NonNullable<NonNullable<operations["search_movies"]["parameters"]["query"]>["mode"]>;
export type FeedbackKind = FeedbackIn["kind"];

export interface Page<T> {
  items: T[];
  total: number;
}
