import { useId } from "react";
import { Link } from "react-router";

import type { MovieSummary } from "../api/types";
import { Poster } from "./Poster";

interface MovieCardProps {
  movie: MovieSummary;
  /** Why the film is shown ("Because you liked Heat"), under its title. */
  reason?: string | null;
  /** The genre the reason names ("Comedy, a genre you like"): listed first, so the card shows it. */
  reasonGenre?: string | null;
  /** Extra line under the title (e.g. "you rated 4★"). */
  note?: string | null;
  /** "Not interested": hides the film from every row of this user. */
  onDismiss?: (() => void) | undefined;
  /** Called when the film is opened from this card (e.g. to log the click against the list that showed it). */
  onOpen?: (() => void) | undefined;
}

/**
 * A film as a poster with title, year and the reason it is shown, linking to its page. The link is the card's only
 * tab stop (a home page has ~70 cards): the reason is read with it, and "Not interested" is a pointer shortcut here
 * that keyboard users reach on the film's page, where every mark lives.
 */
export function MovieCard({ movie, reason, reasonGenre, note, onDismiss, onOpen }: MovieCardProps) {
  const detailsId = useId();
  const genres = reasonGenre && movie.genres.includes(reasonGenre)
    ? [reasonGenre, ...movie.genres.filter((g) => g !== reasonGenre)]
    : movie.genres;
  return (
    <article className="group relative w-full" data-testid="movie-card" data-movie-id={movie.movie_id}>
      <Link
        to={`/movies/${movie.movie_id}`}
        onClick={onOpen}
        aria-describedby={detailsId}
        className="block rounded-lg focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-violet-600"
      >
        <div className="transition-transform group-hover:-translate-y-0.5">
          <Poster title={movie.title} year={movie.year} posterPath={movie.poster_path ?? null} />
        </div>
        <h3 className="mt-2 line-clamp-2 text-sm font-medium leading-snug">{movie.title}</h3>
      </Link>
      <div id={detailsId}>
        <p className="text-xs text-zinc-600 dark:text-zinc-400">
          {movie.year ?? "—"}
          {genres.length ? ` · ${genres.slice(0, 2).join(", ")}` : ""}
        </p>
        {note ? <p className="text-xs text-violet-700 dark:text-violet-300">{note}</p> : null}
        {reason ? (
          <p className="mt-0.5 line-clamp-2 text-xs text-zinc-700 dark:text-zinc-300" data-testid="reason" title={reason}>
            {reason}
          </p>
        ) : null}
      </div>
      {onDismiss ? (
        <button
          type="button"
          tabIndex={-1}
          onClick={onDismiss}
          aria-label={`Not interested in ${movie.title}`}
          title="Not interested"
          data-testid="dismiss"
          className="absolute right-0 top-0 flex h-11 w-11 items-center justify-center rounded-tr-lg"
        >
          <span
            aria-hidden="true"
            className="flex h-6 w-6 items-center justify-center rounded-full bg-black/40 text-xs text-white transition-colors group-hover:bg-black/70 hover:bg-black"
          >
            ✕
          </span>
        </button>
      ) : null}
    </article>
  );
}
