import { useId, useState } from "react";
import { Link } from "react-router";

import type { MovieSummary } from "../api/types";
import { Poster } from "./Poster";

interface MovieCardProps {
  movie: MovieSummary;
  reason?: string | null;
  /** Extra line under the title (e.g. "you rated 4★"). */
  note?: string | null;
  /** "Not interested": hides the film from every row of this user. */
  onDismiss?: (() => void) | undefined;
  /** Called when the film is opened from this card (e.g. to log the click against the list that showed it). */
  onOpen?: (() => void) | undefined;
}

/** A film as a poster with title and year, linking to its page; "Why?" reveals the model's reason. */
export function MovieCard({ movie, reason, note, onDismiss, onOpen }: MovieCardProps) {
  const [showReason, setShowReason] = useState(false);
  const reasonId = useId();
  return (
    <article className="group w-full" data-testid="movie-card" data-movie-id={movie.movie_id}>
      <Link
        to={`/movies/${movie.movie_id}`}
        onClick={onOpen}
        className="block rounded-lg focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-violet-600"
      >
        <div className="transition-transform group-hover:-translate-y-0.5">
          <Poster title={movie.title} year={movie.year} posterPath={movie.poster_path ?? null} />
        </div>
        <h3 className="mt-2 line-clamp-2 text-sm font-medium leading-snug">{movie.title}</h3>
      </Link>
      <p className="text-xs text-zinc-600 dark:text-zinc-400">
        {movie.year ?? "—"}
        {movie.genres.length ? ` · ${movie.genres.slice(0, 2).join(", ")}` : ""}
      </p>
      {note ? <p className="text-xs text-violet-700 dark:text-violet-300">{note}</p> : null}
      {reason ? (
        <div className="mt-1">
          <button
            type="button"
            aria-expanded={showReason}
            aria-controls={reasonId}
            onClick={() => {
              setShowReason((v) => !v);
            }}
            className="rounded text-xs font-medium text-violet-700 underline-offset-2 hover:underline focus-visible:outline-2 focus-visible:outline-violet-600 dark:text-violet-300"
          >
            {showReason ? "Hide reason" : "Why?"}
          </button>
          <p id={reasonId} hidden={!showReason} className="mt-1 text-xs text-zinc-700 dark:text-zinc-300" data-testid="reason">
            {reason}
          </p>
        </div>
      ) : null}
      {onDismiss ? (
        <button
          type="button"
          onClick={onDismiss}
          aria-label={`Not interested in ${movie.title}`}
          data-testid="dismiss"
          className="mt-1 block rounded text-xs text-zinc-500 underline-offset-2 hover:text-zinc-800 hover:underline focus-visible:outline-2 focus-visible:outline-violet-600 dark:hover:text-zinc-200"
        >
          Not interested
        </button>
      ) : null}
    </article>
  );
}
