import { Link, useParams } from "react-router";

import { ApiError, errorMessage, isBackendDown } from "../api/errors";
import { recordClick, useMovie, useMovieMark, useSimilar, useUser } from "../api/queries";
import type { FeedbackKind, SimilarKind } from "../api/types";
import { ErrorNote } from "../components/EmptyState";
import { MetadataNotice } from "../components/MetadataNotice";
import { MovieRow } from "../components/MovieRow";
import { Poster } from "../components/Poster";
import { ReadOnlyNote } from "../components/ReadOnlyNote";
import { Skeleton } from "../components/Skeleton";
import { StarRating } from "../components/StarRating";
import { useMark } from "../lib/marks";
import { useModelWords } from "../lib/models";
import { usePageTitle } from "../lib/usePageTitle";
import { useCanRate, useSession } from "../lib/session";
import { NotFound } from "./NotFound";

const ICON_PATHS = {
  dismiss: "M6 6l12 12M18 6L6 18",
  like: "M7 10v11H3V10h4zm2 11h8.3a2 2 0 0 0 2-1.6l1.3-7A2 2 0 0 0 18.6 10H14l.8-4.2a1.5 1.5 0 0 0-2.7-1.2L9 10v11z",
  dislike: "M7 14V3H3v11h4zm2-11h8.3a2 2 0 0 1 2 1.6l1.3 7a2 2 0 0 1-2 2.4H14l.8 4.2a1.5 1.5 0 0 1-2.7 1.2L9 14V3z",
  watched: "M4 12.5l5 5L20 6.5",
} as const;

// Marks that exclude each other (the server keeps at most one of them).
const OPPOSITE: Partial<Record<FeedbackKind, FeedbackKind>> = { like: "dislike", dislike: "like" };

/** Inline SVG icons: emoji fonts are missing on many Linux machines and would show as empty boxes. */
function MarkIcon({ kind }: { kind: keyof typeof ICON_PATHS }) {
  const stroke = kind === "watched" || kind === "dismiss";
  return (
    <svg viewBox="0 0 24 24" aria-hidden="true" className="h-4 w-4" fill={stroke ? "none" : "currentColor"} stroke={stroke ? "currentColor" : "none"} strokeWidth={2.5} strokeLinecap="round" strokeLinejoin="round">
      <path d={ICON_PATHS[kind]} />
    </svg>
  );
}

function Facts({ label, values }: { label: string; values: string[] | null | undefined }) {
  if (!values?.length) return null;
  return (
    <div>
      <dt className="text-xs font-semibold uppercase tracking-wide text-zinc-600 dark:text-zinc-400">{label}</dt>
      <dd className="text-sm">{values.join(", ")}</dd>
    </div>
  );
}

/** The film's most frequent viewer tags as chips; each searches for films like it. */
function TagChips({ tags }: { tags: string[] }) {
  if (!tags.length) return null;
  return (
    <section aria-labelledby="tags-heading">
      <h2 id="tags-heading" className="text-xs font-semibold uppercase tracking-wide text-zinc-600 dark:text-zinc-400">
        Tagged by viewers
      </h2>
      <ul className="mt-1.5 flex flex-wrap gap-1.5" data-testid="movie-tags">
        {tags.map((tag) => (
          <li key={tag}>
            <Link
              to={`/search?q=${encodeURIComponent(tag)}`}
              className="inline-block rounded-full border border-zinc-300 px-2.5 py-0.5 text-xs hover:bg-zinc-100 focus-visible:outline-2 focus-visible:outline-violet-600 dark:border-zinc-700 dark:hover:bg-zinc-900"
            >
              {tag}
            </Link>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** One film: poster, facts, overview, the user's rating and marks, and similar films. */
export default function MovieDetails() {
  const movieId = Number(useParams().movieId);
  const { userId } = useSession();
  const movie = useMovie(movieId);
  const { mark: sendMark, send } = useMark();
  usePageTitle(movie.data ? `${movie.data.title}${movie.data.year ? ` (${movie.data.year})` : ""}` : null);
  // MovieLens profiles are read-only outside the server's demo mode; app profiles need this browser's secret.
  const canRate = useCanRate(useUser(userId).data);
  const locked = send.isPending || !canRate.allowed;
  // The user's own rating (data set or app, from their whole history) and marks of this film.
  const mark = useMovieMark(userId, movieId);
  // Similar films leave out every film this user rated or marked.
  const similar = useSimilar(movie.data ? movieId : null, userId);
  const words = useModelWords();
  // Show what is being sent at once (optimistic); the refetched mark confirms it, an error reverts it.
  const sent = send.isPending && send.variables.movie_id === movieId ? send.variables : undefined;
  const isOn = (kind: FeedbackKind, stored: boolean | undefined) => {
    if (sent?.kind === kind) return !sent.remove;
    if (sent && !sent.remove && OPPOSITE[kind] === sent.kind) return false; // a like clears the dislike
    return Boolean(stored);
  };
  const shownRating = sent?.kind === "rating" && !sent.remove ? (sent.value ?? null) : (mark.data?.rating ?? null);
  const liked = isOn("like", mark.data?.liked);
  const disliked = isOn("dislike", mark.data?.disliked);
  const watched = isOn("watched", mark.data?.watched);
  const dismissed = isOn("dismiss", mark.data?.dismissed);

  if (!Number.isInteger(movieId) || movieId <= 0) return <NotFound what="film" />;
  if (movie.error instanceof ApiError && movie.error.status === 404) return <NotFound what="film" />;
  if (movie.isPending) {
    return (
      <div className="grid gap-6 md:grid-cols-[240px_1fr]" role="status" aria-label="Loading film">
        <Skeleton className="aspect-[2/3] w-full max-w-60" />
        <div className="space-y-3">
          <Skeleton className="h-8 w-2/3" />
          <Skeleton className="h-4 w-1/3" />
          <Skeleton className="h-24 w-full" />
        </div>
      </div>
    );
  }
  if (movie.error) {
    return isBackendDown(movie.error) ? null : <ErrorNote message={errorMessage(movie.error)} />;
  }

  const m = movie.data;
  // With a user chosen, each similar list was logged as an impression: opening a film from it is a click on it.
  const opener = (kind: SimilarKind) => {
    const impression = similar.data?.impression_ids[kind] ?? null;
    return impression === null
      ? undefined
      : (openedId: number) => {
          recordClick(impression, openedId);
        };
  };
  const setMark = (kind: FeedbackKind, value?: number, remove = false) => {
    if (userId === null) return;
    sendMark({ userId, movieId, title: m.title, kind, value: value ?? null, remove, before: mark.data });
  };
  // Each mark toggles: pressed again, it is taken back.
  const markButton = (kind: "like" | "dislike" | "watched" | "dismiss", label: string, pressed: boolean) => (
    <button
      type="button"
      aria-pressed={pressed}
      disabled={locked}
      title={canRate.reason ?? undefined}
      onClick={() => {
        setMark(kind, undefined, pressed);
      }}
      className={`rounded-md border px-3 py-1.5 text-sm font-medium focus-visible:outline-2 focus-visible:outline-violet-600 disabled:opacity-60 ${
        pressed
          ? "border-violet-600 bg-violet-600 text-white"
          : "border-zinc-300 hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-900"
      }`}
    >
      <span className="inline-flex items-center gap-1.5">
        <MarkIcon kind={kind} />
        {label}
      </span>
    </button>
  );

  return (
    <div className="space-y-10">
      <article className="grid gap-6 md:grid-cols-[260px_1fr]">
        <div className="mx-auto w-48 md:w-full">
          <Poster title={m.title} year={m.year} posterPath={m.poster_path ?? null} size="large" />
        </div>
        <div className="space-y-4">
          <div>
            <h1 className="text-3xl font-bold tracking-tight" data-testid="movie-title">
              {m.title}
            </h1>
            <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
              {[m.year, m.runtime ? `${m.runtime} min` : null, m.genres.join(", ")].filter(Boolean).join(" · ")}
            </p>
            {m.tagline ? <p className="mt-2 italic text-zinc-700 dark:text-zinc-300">{m.tagline}</p> : null}
          </div>
          <p className="text-sm" data-testid="movie-rating-stats">
            {m.rating_mean != null ? (
              <>
                <span className="font-semibold">★ {m.rating_mean.toFixed(2)}</span> average from{" "}
                {m.rating_count.toLocaleString()} ratings
              </>
            ) : (
              "No ratings yet"
            )}
          </p>
          {m.overview ? <p className="max-w-prose leading-relaxed">{m.overview}</p> : <MetadataNotice where="details" />}
          <dl className="grid gap-3 sm:grid-cols-2">
            <Facts label="Directed by" values={m.directors} />
            <Facts label="Cast" values={m.cast.slice(0, 8)} />
          </dl>
          <TagChips tags={m.tags} />
          <div className="space-y-3 rounded-lg border border-zinc-200 p-4 dark:border-zinc-800">
            {userId === null ? (
              <p className="text-sm">
                <Link to="/users" className="underline">
                  Choose a user
                </Link>{" "}
                to rate this film.
              </p>
            ) : (
              <>
                <StarRating
                  value={shownRating}
                  disabled={locked}
                  onRate={(value) => {
                    setMark("rating", value);
                  }}
                  onClear={() => {
                    setMark("rating", undefined, true);
                  }}
                />
                <div className="flex flex-wrap gap-2" role="group" aria-label="Mark this film">
                  {markButton("like", "Like", liked)}
                  {markButton("dislike", "Dislike", disliked)}
                  {markButton("watched", "Watched", watched)}
                  {markButton("dismiss", "Not interested", dismissed)}
                </div>
                {canRate.reason ? <ReadOnlyNote reason={canRate.reason} /> : null}
                <p className="text-sm" aria-live="polite" data-testid="feedback-status">
                  {send.isPending
                    ? "Saving…"
                    : send.isSuccess
                      ? "Saved. Your recommendations have been updated."
                      : send.error && !isBackendDown(send.error)
                        ? `Not saved: ${errorMessage(send.error)}`
                        : ""}
                  {send.isSuccess ? (
                    <>
                      {" "}
                      <Link to="/" className="underline underline-offset-2">
                        See them
                      </Link>
                    </>
                  ) : null}
                </p>
              </>
            )}
          </div>
        </div>
      </article>
      <MovieRow
        id="similar-collaborative"
        title="People who liked this also liked"
        source={similar.data?.collaborative_model ? words.label(similar.data.collaborative_model) : undefined}
        items={similar.data?.collaborative.map((r) => ({ movie: r.movie, reason: r.reason?.label ?? null }))}
        isPending={similar.isPending}
        error={similar.error}
        empty={
          similar.data && similar.data.collaborative_model === null
            ? "This list is not available on the server right now."
            : "Not enough ratings to find films like this."
        }
        onOpen={opener("collaborative")}
      />
      <MovieRow
        id="similar-content"
        title="Similar in story and style"
        source={similar.data?.content_model ? words.label(similar.data.content_model) : undefined}
        items={similar.data?.content.map((r) => ({ movie: r.movie, reason: r.reason?.label ?? null }))}
        isPending={similar.isPending}
        error={similar.error}
        empty={
          similar.data && similar.data.content_model === null
            ? "This list is not available on the server right now."
            : "No description to compare with."
        }
        onOpen={opener("content")}
      />
    </div>
  );
}
