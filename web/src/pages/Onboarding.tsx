import { useState } from "react";
import { useNavigate } from "react-router";

import { errorMessage, isBackendDown } from "../api/errors";
import { useCreateUser, usePopular, useSearch } from "../api/queries";
import type { MovieSummary } from "../api/types";
import { EmptyState, ErrorNote } from "../components/EmptyState";
import { Poster } from "../components/Poster";
import { CardRowSkeleton } from "../components/Skeleton";
import { useDebouncedValue } from "../lib/useDebouncedValue";
import { useSession } from "../lib/session";
import { usePageTitle } from "../lib/usePageTitle";

export const MIN_LIKED = 3;

function PickTile({ movie, picked, onToggle }: { movie: MovieSummary; picked: boolean; onToggle: () => void }) {
  return (
    <button
      type="button"
      aria-pressed={picked}
      onClick={onToggle}
      data-testid="pick-movie"
      className={`w-full rounded-lg p-1 text-left focus-visible:outline-2 focus-visible:outline-violet-600 ${
        picked ? "bg-violet-600 text-white" : "hover:bg-zinc-100 dark:hover:bg-zinc-900"
      }`}
    >
      <Poster title={movie.title} year={movie.year} posterPath={movie.poster_path ?? null} />
      <span className="mt-1 block truncate text-xs font-medium">
        {picked ? "✓ " : ""}
        {movie.title}
      </span>
    </button>
  );
}

/** New user: pick at least three films you like, from popular films or a search; recommendations follow at once. */
export default function Onboarding() {
  usePageTitle("Start your profile");
  const [picked, setPicked] = useState<Map<number, MovieSummary>>(new Map());
  const [query, setQuery] = useState("");
  const debounced = useDebouncedValue(query.trim(), 300);
  const popular = usePopular(30);
  const search = useSearch({ q: debounced, mode: "title", k: 18 });
  const create = useCreateUser();
  const { setUserId } = useSession();
  const navigate = useNavigate();

  const toggle = (movie: MovieSummary) => {
    setPicked((current) => {
      const next = new Map(current);
      if (next.has(movie.movie_id)) next.delete(movie.movie_id);
      else next.set(movie.movie_id, movie);
      return next;
    });
  };

  const submit = () => {
    create.mutate([...picked.keys()], {
      onSuccess: (created) => {
        setUserId(created.user.user_id, created.secret ?? undefined);
        void navigate("/");
      },
    });
  };

  const shown: MovieSummary[] | undefined = debounced ? search.data?.items.map((h) => h.movie) : popular.data;
  const loading = debounced ? search.isPending : popular.isPending;
  const error = debounced ? search.error : popular.error;
  const missing = Math.max(0, MIN_LIKED - picked.size);

  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-bold tracking-tight">Start your profile</h1>
        <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
          Pick at least {MIN_LIKED} films you love and your first recommendations appear at once. Rate more films
          later and they get better.
        </p>
      </div>
      <div className="sticky top-0 z-10 flex flex-wrap items-center gap-3 rounded-lg border border-zinc-200 bg-white p-3 shadow-sm sm:top-16 dark:border-zinc-800 dark:bg-zinc-950">
        <p className="flex-1 text-sm" aria-live="polite" data-testid="picked-count">
          {picked.size} picked{missing > 0 ? ` · ${missing} more to go` : " · ready"}
        </p>
        <button
          type="button"
          disabled={missing > 0 || create.isPending}
          onClick={submit}
          className="min-h-11 rounded-md bg-violet-700 px-4 text-sm font-medium text-white hover:bg-violet-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-violet-700 disabled:cursor-not-allowed disabled:opacity-50"
        >
          {create.isPending ? "Creating…" : "Get my recommendations"}
        </button>
        {create.error && !isBackendDown(create.error) ? (
          <div className="w-full">
            <ErrorNote message={`Your profile could not be created: ${errorMessage(create.error)}`} />
          </div>
        ) : null}
      </div>
      {picked.size ? (
        <ul className="flex flex-wrap gap-2" aria-label="Your picks">
          {[...picked.values()].map((movie) => (
            <li key={movie.movie_id}>
              <button
                type="button"
                onClick={() => {
                  toggle(movie);
                }}
                aria-label={`Remove ${movie.title}`}
                className="min-h-11 rounded-full bg-violet-100 px-3 text-xs text-violet-900 hover:bg-violet-200 dark:bg-violet-900/60 dark:text-violet-100"
              >
                {movie.title} ✕
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      <div className="max-w-md">
        <label htmlFor="onboarding-search" className="mb-1 block text-sm font-medium">
          Search for a film you like
        </label>
        <input
          id="onboarding-search"
          type="search"
          value={query}
          maxLength={200}
          onChange={(event) => {
            setQuery(event.target.value);
          }}
          placeholder="e.g. Star Wars"
          className="w-full rounded-lg border border-zinc-300 bg-white px-3 py-2 dark:border-zinc-700 dark:bg-zinc-900"
        />
      </div>
      <section aria-label={debounced ? "Search results" : "Popular films"}>
        <h2 className="mb-3 text-lg font-semibold">{debounced ? `Films matching “${debounced}”` : "Popular films"}</h2>
        {loading ? (
          <CardRowSkeleton />
        ) : error ? (
          isBackendDown(error) ? null : <ErrorNote message={errorMessage(error)} />
        ) : !shown || shown.length === 0 ? (
          <EmptyState title="No film found">Try another title.</EmptyState>
        ) : (
          <ul className="grid grid-cols-3 gap-3 sm:grid-cols-4 md:grid-cols-6 lg:grid-cols-8">
            {shown.map((movie) => (
              <li key={movie.movie_id}>
                <PickTile
                  movie={movie}
                  picked={picked.has(movie.movie_id)}
                  onToggle={() => {
                    toggle(movie);
                  }}
                />
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
