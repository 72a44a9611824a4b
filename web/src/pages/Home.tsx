import { Link, Navigate } from "react-router";

import { ApiError } from "../api/errors";
import { usePopular, useRecommendations, useSimilar, useUser } from "../api/queries";
import type { ScoredMovie } from "../api/types";
import { MovieRow, type RowItem } from "../components/MovieRow";
import { Skeleton } from "../components/Skeleton";
import { historyNote, pickSeed } from "../lib/history";
import { modelLabel } from "../lib/models";
import { useSession } from "../lib/session";

function recItems(items: ScoredMovie[] | undefined): RowItem[] | undefined {
  return items?.map((r) => ({ movie: r.movie, reason: r.reason }));
}

/** Home: the personal rows for the current user, each labelled with the model that made it. */
export function Home() {
  const { userId } = useSession();
  const user = useUser(userId);
  // The stored user is gone (e.g. the database was rebuilt): back to the picker, which forgets it and says why.
  const unknownUser = user.error instanceof ApiError && user.error.status === 404;
  const forYou = useRecommendations(userId, "hybrid");
  const upNext = useRecommendations(userId, "bert4rec");
  const seed = pickSeed(user.data?.recent);
  const becauseLiked = useSimilar(seed?.movie.movie_id ?? null);
  const popular = usePopular(18);
  const topGenre = user.data?.top_genres[0];
  const genreRow = usePopular(30, topGenre);

  if (unknownUser) return <Navigate to="/users" replace state={{ missingUser: userId }} />;
  if (userId === null) return <Navigate to="/users" replace />;

  // "Your genres" shows popular films of the user's top genre that are not in their recent history.
  const seen = new Set(user.data?.recent.map((h) => h.movie.movie_id));
  const genreItems = genreRow.data?.filter((m) => !seen.has(m.movie_id)).map((movie) => ({ movie }));

  const recent: RowItem[] | undefined = user.data?.recent.map((h) => ({ movie: h.movie, note: historyNote(h) }));

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
            {user.data.rating_count} ratings
            {user.data.like_count ? `, ${user.data.like_count} likes` : ""}
            {user.data.top_genres.length ? ` · loves ${user.data.top_genres.slice(0, 3).join(", ")}` : ""} ·{" "}
            <Link to="/users" className="underline underline-offset-2">
              switch user
            </Link>
          </p>
        ) : null}
      </div>
      <MovieRow
        id="for-you"
        title="For you"
        source={modelLabel(forYou.data?.model ?? "hybrid")}
        description="Blends Two-Tower, BERT4Rec and popularity, with weights tuned on validation data."
        items={recItems(forYou.data?.items)}
        isPending={forYou.isPending}
        isUpdating={forYou.isFetching}
        error={forYou.error}
        empty="Rate a few films and your recommendations appear here."
      />
      <MovieRow
        id="up-next"
        title="Up next"
        source={modelLabel(upNext.data?.model ?? "bert4rec")}
        description="What usually comes next after the films you watched, in order."
        items={recItems(upNext.data?.items)}
        isPending={upNext.isPending}
        isUpdating={upNext.isFetching}
        error={upNext.error}
        empty="Watch or rate films to get sequence-based picks."
      />
      <MovieRow
        id="because-liked"
        title={seed ? `Because you liked ${seed.movie.title}` : "Because you liked…"}
        source={modelLabel("two_tower")}
        description={seed ? "Films whose Two-Tower item vectors are closest to this one." : undefined}
        items={seed ? recItems(becauseLiked.data?.collaborative) : []}
        isPending={user.isPending || (seed !== undefined && becauseLiked.isPending)}
        isUpdating={user.isFetching || becauseLiked.isFetching}
        error={becauseLiked.error}
        empty="Like or rate a film 4★ or more to see films like it."
      />
      <MovieRow
        id="popular"
        title="Popular"
        source={modelLabel("popular")}
        description="The most rated films of the data set."
        items={popular.data?.map((movie) => ({ movie }))}
        isPending={popular.isPending}
        isUpdating={popular.isFetching}
        error={popular.error}
        empty="No films in the catalogue."
      />
      <MovieRow
        id="your-genres"
        title={topGenre ? `Your genres: ${topGenre}` : "Your genres"}
        source={modelLabel("popular")}
        description={topGenre ? `Most rated ${topGenre} films; ${topGenre} is your most rated genre.` : undefined}
        items={topGenre ? genreItems : []}
        isPending={user.isPending || (topGenre !== undefined && genreRow.isPending)}
        isUpdating={genreRow.isFetching}
        error={genreRow.error}
        empty="Rate a few films so we learn your genres."
      />
      <MovieRow
        id="recent"
        title="Recently rated"
        source="Your history"
        items={recent}
        isPending={user.isPending}
        isUpdating={user.isFetching}
        error={user.error}
        empty="You have not rated anything yet."
      />
    </div>
  );
}
