import { useState } from "react";
import { Link, Navigate } from "react-router";

import { errorMessage, isBackendDown } from "../api/errors";
import { recordClick, useHome, useUser } from "../api/queries";
import type { HomeRow, ShownHomeRow } from "../api/types";
import { ErrorNote } from "../components/EmptyState";
import { MovieRow } from "../components/MovieRow";
import { ReadOnlyNote } from "../components/ReadOnlyNote";
import { Skeleton } from "../components/Skeleton";
import { useMark } from "../lib/marks";
import { type ModelWords, useModelWords } from "../lib/models";
import { usePageTitle } from "../lib/usePageTitle";
import { useCanRate, useSession } from "../lib/session";
import { countOf, tasteLine } from "../lib/users";

// Shown while the page loads: the server's rows, in its order, have these ids and titles.
const PENDING_ROWS = [
  { id: "for-you", title: "Top picks for you" },
  { id: "up-next", title: "Up next" },
  { id: "from-history", title: "From your whole history" },
  { id: "because-liked", title: "Because you liked…" },
];

const EMPTY: Record<string, string> = {
  "for-you": "Rate a few films and your recommendations appear here.",
  "up-next": "Watch or rate films to get sequence-based picks.",
  "from-history": "Watch or rate films to get picks from your whole history.",
  "because-liked": "Like a film or rate it 4★ or more to see films like it.",
  "your-genres": "Like or rate a few films so we learn your favourite genre.",
  popular: "You have seen every popular film.",
  recent: "You have not rated anything yet.",
};

function rowSource(row: HomeRow, words: ModelWords): string {
  return row.history || row.model === null ? "Your history" : words.label(row.model);
}

/**
 * Home: the user's rows as the server built them (GET /api/users/{id}/home): each says what it is for and which
 * model made it; none shows a film the user rated or marked (their history row aside), no film appears twice.
 */
export function Home() {
  const { userId } = useSession();
  const user = useUser(userId);
  const home = useHome(userId);
  const { mark, send } = useMark();
  const words = useModelWords();
  usePageTitle("Home");
  const canRate = useCanRate(user.data);
  // Dismissed here: hidden at once, before the refetched page (which leaves them out) arrives.
  const [dismissed, setDismissed] = useState<ReadonlySet<number>>(new Set());

  if (userId === null) return <Navigate to="/users" replace />;

  // A film opened from a logged row is a click on that row's impression.
  const opener = ({ impression_id: impression }: ShownHomeRow) =>
    impression === null
      ? undefined
      : (movieId: number) => {
          recordClick(impression, movieId);
        };
  const showAgain = (movieId: number) => {
    setDismissed((before) => {
      const after = new Set(before);
      after.delete(movieId);
      return after;
    });
  };
  const dismiss = (row: ShownHomeRow) => (movieId: number) => {
    const title = row.items.find((item) => item.movie.movie_id === movieId)?.movie.title ?? "This film";
    setDismissed((before) => new Set(before).add(movieId));
    // Undone, or not saved (the error shows above the rows): the card comes back.
    const restore = () => {
      showAgain(movieId);
    };
    mark({ userId, movieId, title, kind: "dismiss", impressionId: row.impression_id }, { onUndone: restore, onError: restore });
  };

  return (
    <div className="space-y-10">
      <div>
        {user.isPending ? (
          <Skeleton className="h-8 w-72" />
        ) : (
          <h1 className="text-2xl font-bold tracking-tight">
            {user.data ? `Hello, ${user.data.display_name}` : `User ${userId}`}
          </h1>
        )}
        {user.data ? (
          <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
            {countOf(user.data.rating_count, "rating")}
            {user.data.like_count ? `, ${countOf(user.data.like_count, "like")}` : ""}
            {tasteLine(user.data) ? ` · stands out: ${tasteLine(user.data) ?? ""}` : ""} ·{" "}
            <Link to={`/users/${userId}`} className="underline underline-offset-2">
              profile
            </Link>{" "}
            ·{" "}
            <Link to="/users" className="underline underline-offset-2">
              switch profile
            </Link>
          </p>
        ) : null}
        {send.isError && !isBackendDown(send.error) ? (
          <ErrorNote message={`Not saved: ${errorMessage(send.error)}`} />
        ) : null}
        {canRate.reason ? <ReadOnlyNote reason={canRate.reason} className="mt-2" /> : null}
      </div>
      {home.isPending ? (
        PENDING_ROWS.map((row) => (
          <MovieRow key={row.id} id={row.id} title={row.title} source="…" items={undefined} isPending error={null} empty="" />
        ))
      ) : home.error ? (
        isBackendDown(home.error) ? null : <ErrorNote message={`Your rows could not be loaded: ${errorMessage(home.error)}`} />
      ) : (
        home.data.rows.map((row) => (
          <MovieRow
            key={row.id}
            id={row.id}
            title={row.title}
            source={rowSource(row, words)}
            description={row.purpose}
            items={row.items
              .filter((item) => row.history || !dismissed.has(item.movie.movie_id))
              .map((item) => ({
                movie: item.movie,
                reason: item.reason?.label ?? null,
                reasonGenre: item.reason?.genre ?? null,
                note: item.note ?? null,
              }))}
            isPending={false}
            isUpdating={home.isFetching}
            error={null}
            empty={EMPTY[row.id] ?? "Nothing here yet."}
            onDismiss={row.history || !canRate.allowed ? undefined : dismiss(row)}
            onOpen={opener(row)}
          />
        ))
      )}
    </div>
  );
}
