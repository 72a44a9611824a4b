import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";

import { ApiError, errorMessage, isBackendDown } from "../api/errors";
import { useSimilarUsers, useUser, useUserRatings } from "../api/queries";
import type { UserDetail } from "../api/types";
import { EmptyState, ErrorNote } from "../components/EmptyState";
import { Pager } from "../components/Pager";
import { Skeleton } from "../components/Skeleton";
import { ProfileKey } from "../components/ProfileKey";
import { UserCard } from "../components/UserCard";
import { holdsKey, useSession } from "../lib/session";
import { usePageTitle } from "../lib/usePageTitle";
import { activityLine, countOf, liftLabel } from "../lib/users";
import { NotFound } from "./NotFound";

const PER_PAGE = 20;

const section = "space-y-3";
const heading = "text-lg font-semibold tracking-tight";

/** What stands out in the user's taste, each trait with how far above the average and on how many films. */
function Taste({ user, own }: { user: UserDetail; own: boolean }) {
  return (
    <section aria-labelledby="taste-heading" className={section}>
      <h2 id="taste-heading" className={heading}>
        What stands out in {own ? "your" : "their"} taste
      </h2>
      {user.taste.length === 0 ? (
        <p className="text-sm text-zinc-600 dark:text-zinc-400">
          No genre or tag stands out against everyone else: a bit of everything.
        </p>
      ) : (
        <ul className="grid gap-2 sm:grid-cols-2 lg:grid-cols-3" data-testid="profile-taste">
          {user.taste.map((trait) => (
            <li key={`${trait.kind}:${trait.name}`} className="rounded-md border border-zinc-200 p-2 text-sm dark:border-zinc-800">
              <span className="font-medium">{trait.kind === "tag" ? `#${trait.name}` : trait.name}</span>{" "}
              <span className="text-zinc-600 dark:text-zinc-400">
                · {liftLabel(trait)} · {countOf(trait.count, "film")} {own ? "you" : "they"} liked
              </span>
            </li>
          ))}
        </ul>
      )}
      {user.top_genres.length ? (
        <p className="text-xs text-zinc-600 dark:text-zinc-400">
          Most rated genres: {user.top_genres.join(", ")} (the most common genres overall, so they say little on
          their own).
        </p>
      ) : null}
    </section>
  );
}

/** People whose taste is close: the Two-Tower model's nearest users, or the stated fallback. */
function SimilarPeople({ userId, onChoose }: { userId: number; onChoose: (id: number) => void }) {
  const similar = useSimilarUsers(userId);
  const { userId: current } = useSession();
  return (
    <section aria-labelledby="similar-heading" className={section}>
      <div className="flex flex-wrap items-baseline gap-x-3">
        <h2 id="similar-heading" className={heading}>
          People with similar taste
        </h2>
        {similar.data ? (
          <span className="text-xs text-zinc-600 dark:text-zinc-400" data-testid="similar-model">
            {similar.data.model !== "taste" ? "People who rated the same films as you" : "People whose taste stands out the same way"}
          </span>
        ) : null}
      </div>
      {similar.data?.note ? <ErrorNote message={similar.data.note} /> : null}
      {similar.isPending ? (
        <Skeleton className="h-40 w-full" />
      ) : similar.error ? (
        isBackendDown(similar.error) ? null : <ErrorNote message={`Similar people could not be loaded: ${errorMessage(similar.error)}`} />
      ) : similar.data.items.length === 0 ? (
        <EmptyState title="Nobody close yet">Rate or like a few films and look again.</EmptyState>
      ) : (
        <ul className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4" data-testid="similar-users">
          {similar.data.items.map((item) => (
            <li key={item.user.user_id}>
              <UserCard
                user={item.user}
                current={item.user.user_id === current}
                onChoose={onChoose}
                score={similar.data.model !== "taste" ? `${Math.round(item.score * 100)}% alike` : `${Math.round(item.score * 100)}% shared`}
              />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** Every film the user rated, newest first, a page at a time. */
function Ratings({ userId, own }: { userId: number; own: boolean }) {
  const [page, setPage] = useState(1);
  const ratings = useUserRatings(userId, page, PER_PAGE);
  const pages = ratings.data ? Math.max(1, Math.ceil(ratings.data.total / PER_PAGE)) : 1;
  return (
    <section aria-labelledby="ratings-heading" className={section}>
      <h2 id="ratings-heading" className={heading}>
        {own ? "Your" : "Their"} ratings{ratings.data ? ` (${countOf(ratings.data.total, "film")})` : ""}
      </h2>
      {ratings.isPending ? (
        <Skeleton className="h-64 w-full" />
      ) : ratings.error ? (
        isBackendDown(ratings.error) ? null : <ErrorNote message={`Ratings could not be loaded: ${errorMessage(ratings.error)}`} />
      ) : ratings.data.items.length === 0 ? (
        <EmptyState title="No ratings yet">Ratings given on a film&apos;s page appear here.</EmptyState>
      ) : (
        <>
          <table className="w-full text-left text-sm" data-testid="profile-ratings">
            <thead className="text-xs uppercase tracking-wide text-zinc-600 dark:text-zinc-400">
              <tr>
                <th scope="col" className="py-1 pr-2 font-semibold">Film</th>
                <th scope="col" className="py-1 pr-2 font-semibold">{own ? "Your" : "Their"} rating</th>
                <th scope="col" className="hidden py-1 pr-2 font-semibold sm:table-cell">Genres</th>
                <th scope="col" className="py-1 font-semibold">Rated</th>
              </tr>
            </thead>
            <tbody>
              {ratings.data.items.map((item) => (
                <tr key={item.movie.movie_id} className="border-t border-zinc-200 dark:border-zinc-800">
                  <td className="py-1.5 pr-2">
                    <Link to={`/movies/${item.movie.movie_id}`} className="hover:underline focus-visible:outline-2 focus-visible:outline-violet-600">
                      {item.movie.title}
                    </Link>
                    {item.movie.year ? <span className="text-zinc-600 dark:text-zinc-400"> ({item.movie.year})</span> : null}
                  </td>
                  <td className="py-1.5 pr-2 whitespace-nowrap" aria-label={`${item.rating} out of 5 stars`}>
                    <span aria-hidden="true" className="text-amber-500">★</span> {item.rating.toFixed(1)}
                  </td>
                  <td className="hidden py-1.5 pr-2 text-zinc-600 sm:table-cell dark:text-zinc-400">{item.movie.genres.join(", ")}</td>
                  <td className="py-1.5 whitespace-nowrap text-zinc-600 dark:text-zinc-400">
                    {new Date(item.at).toLocaleDateString("en", { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" })}
                    {item.source === "app" ? " · here" : ""}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager label="Pages of ratings" page={page} pages={pages} onPage={setPage} previous="Newer" next="Older" />
        </>
      )}
    </section>
  );
}

/** A user's profile: activity, what is distinctive in their taste, favourite films, people with similar taste and
 * their whole rating history. */
export default function UserProfile() {
  const userId = Number(useParams().userId);
  const valid = Number.isInteger(userId) && userId > 0;
  const user = useUser(valid ? userId : null);
  usePageTitle(user.data ? `${user.data.display_name}'s profile` : null);
  const { userId: current, setUserId } = useSession();
  const navigate = useNavigate();
  const choose = (id: number) => {
    // A private profile opens with its key: the chooser asks for it.
    if (id === userId && user.data?.source === "app" && !holdsKey(id)) {
      void navigate("/users", { state: { lockedProfile: user.data.display_name } });
      return;
    }
    setUserId(id);
    void navigate("/");
  };
  if (!valid || (user.error instanceof ApiError && user.error.status === 404)) return <NotFound what="user" />;
  if (user.isPending) {
    return (
      <div role="status" aria-label="Loading profile" className="space-y-4">
        <Skeleton className="h-8 w-64" />
        <Skeleton className="h-32 w-full" />
      </div>
    );
  }
  if (user.error) {
    return isBackendDown(user.error) ? null : <ErrorNote message={`The profile could not be loaded: ${errorMessage(user.error)}`} />;
  }
  const profile = user.data;
  return (
    <div className="space-y-8" key={userId}>
      <header className="flex flex-wrap items-end justify-between gap-4">
        <div>
          <h1 className="text-2xl font-bold tracking-tight" data-testid="profile-name">
            {profile.display_name}
          </h1>
          <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400" data-testid="profile-activity">
            {activityLine(profile)}
            {profile.like_count ? ` · ${countOf(profile.like_count, "like")}` : ""}
          </p>
        </div>
        {current === userId ? (
          <Link to="/" className="inline-flex min-h-11 items-center rounded-md border border-zinc-300 px-4 text-sm hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-900">
            Back to my recommendations
          </Link>
        ) : (
          <button
            type="button"
            onClick={() => {
              choose(userId);
            }}
            className="inline-flex min-h-11 items-center rounded-md bg-violet-700 px-4 text-sm font-medium text-white hover:bg-violet-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-violet-700"
          >
            Use this profile
          </button>
        )}
      </header>
      {profile.private ? (
        <p className="max-w-prose text-sm text-zinc-700 dark:text-zinc-300" data-testid="private-profile">
          This profile is private: its taste, favourites and ratings are for its owner. If it is yours, use its key
          to open it in this browser (&ldquo;Use this profile&rdquo;).
        </p>
      ) : (
        <>
        {current === userId ? <ProfileKey userId={userId} name={profile.display_name} /> : null}
        <Taste user={profile} own={current === userId} />
        {profile.favourites.length ? (
          <section aria-labelledby="favourites-heading" className={section}>
            <h2 id="favourites-heading" className={heading}>
              Favourite films
            </h2>
            <ol className="flex flex-wrap gap-2" data-testid="profile-favourites">
              {profile.favourites.map((movie) => (
                <li key={movie.movie_id}>
                  <Link
                    to={`/movies/${movie.movie_id}`}
                    className="inline-block rounded-md border border-zinc-300 px-3 py-1.5 text-sm hover:bg-zinc-100 focus-visible:outline-2 focus-visible:outline-violet-600 dark:border-zinc-700 dark:hover:bg-zinc-900"
                  >
                    {movie.title}
                    {movie.year ? ` (${movie.year})` : ""}
                  </Link>
                </li>
              ))}
            </ol>
          </section>
        ) : null}
        <SimilarPeople userId={userId} onChoose={choose} />
        <Ratings userId={userId} own={current === userId} />
        </>
      )}
    </div>
  );
}
