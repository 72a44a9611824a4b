import type { ReactNode } from "react";

import { errorMessage, isBackendDown } from "../api/errors";
import type { MovieSummary } from "../api/types";
import { EmptyState, ErrorNote } from "./EmptyState";
import { MovieCard } from "./MovieCard";
import { CardRowSkeleton } from "./Skeleton";

export interface RowItem {
  movie: MovieSummary;
  reason?: string | null;
  /** The genre the reason names, shown first among the card's genres. */
  reasonGenre?: string | null;
  note?: string | null;
}

interface MovieRowProps {
  id: string;
  title: string;
  /** Who made the list (a model's label); none while it is not known. */
  source?: string;
  description?: string;
  items: RowItem[] | undefined;
  isPending: boolean;
  /** Refetching after feedback: the old items stay visible, marked as updating. */
  isUpdating?: boolean;
  error: unknown;
  empty: ReactNode;
  /** When set, each card offers "Not interested" (never on the user's own history). */
  onDismiss?: ((movieId: number) => void) | undefined;
  /** Called when a film is opened from this row. */
  onOpen?: ((movieId: number) => void) | undefined;
}

/** A titled, horizontally scrolling row of films with its model badge, skeleton, empty and error states. */
export function MovieRow({
  id,
  title,
  source,
  description,
  items,
  isPending,
  isUpdating,
  error,
  empty,
  onDismiss,
  onOpen,
}: MovieRowProps) {
  const headingId = `row-${id}`;
  return (
    <section
      aria-labelledby={headingId}
      aria-busy={isPending || isUpdating}
      className="space-y-3"
      data-testid={`row-${id}`}
    >
      <div className="flex flex-wrap items-baseline gap-x-3 gap-y-1">
        <h2 id={headingId} className="text-lg font-semibold tracking-tight">
          {title}
        </h2>
        {source ? (
          <span
            className="rounded-full bg-violet-100 px-2 py-0.5 text-xs font-medium text-violet-800 dark:bg-violet-900/60 dark:text-violet-200"
            data-testid="row-model"
          >
            {source}
          </span>
        ) : null}
        {isUpdating && !isPending ? (
          <span className="text-xs text-zinc-600 dark:text-zinc-400" role="status">
            Updating…
          </span>
        ) : null}
        {description ? <p className="w-full text-xs text-zinc-600 dark:text-zinc-400">{description}</p> : null}
        {items?.length ? (
          // A keyboard shortcut past the row's dozen cards: shown only when focused (as the page's skip link).
          <a
            href={`#after-${id}`}
            className="sr-only rounded focus:not-sr-only focus:px-2 focus:py-1 focus:text-sm focus:underline"
          >
            Skip past “{title}”
          </a>
        ) : null}
      </div>
      {isPending ? (
        <CardRowSkeleton />
      ) : error ? (
        isBackendDown(error) ? null : <ErrorNote message={`This row could not be loaded: ${errorMessage(error)}`} />
      ) : !items || items.length === 0 ? (
        <EmptyState title="Nothing here yet">{empty}</EmptyState>
      ) : (
        <ul className="-mx-4 flex snap-x scroll-px-4 gap-4 overflow-x-auto px-4 pb-2" data-testid="row-items">
          {items.map((item) => (
            <li key={item.movie.movie_id} className="w-32 shrink-0 snap-start sm:w-40">
              <MovieCard
                movie={item.movie}
                reason={item.reason ?? null}
                reasonGenre={item.reasonGenre ?? null}
                note={item.note ?? null}
                onDismiss={
                  onDismiss
                    ? () => {
                        onDismiss(item.movie.movie_id);
                      }
                    : undefined
                }
                onOpen={
                  onOpen
                    ? () => {
                        onOpen(item.movie.movie_id);
                      }
                    : undefined
                }
              />
            </li>
          ))}
        </ul>
      )}
      <span id={`after-${id}`} tabIndex={-1} className="block" />
    </section>
  );
}
