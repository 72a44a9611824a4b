import { useEffect, useState } from "react";
import { Link, useLocation, useNavigate } from "react-router";

import { errorMessage, isBackendDown } from "../api/errors";
import { useUsers } from "../api/queries";
import { EmptyState, ErrorNote } from "../components/EmptyState";
import { Pager } from "../components/Pager";
import { SignInWithKey } from "../components/SignInWithKey";
import { Skeleton } from "../components/Skeleton";
import { UserCard } from "../components/UserCard";
import { useDebouncedValue } from "../lib/useDebouncedValue";
import { holdsKey, useSession } from "../lib/session";
import { countOf } from "../lib/users";
import { usePageTitle } from "../lib/usePageTitle";

const PER_PAGE = 24;

/** Every user of the data set (and app users), searchable by id, name or taste, each described by what is
 * distinctive in their taste, their favourite films and their activity; picking one opens their home. */
export default function UserPicker() {
  usePageTitle("Choose a profile");
  const [query, setQuery] = useState("");
  const [page, setPage] = useState(1);
  const debounced = useDebouncedValue(query.trim(), 250);
  const users = useUsers(debounced, page, PER_PAGE);
  const { userId, setUserId } = useSession();
  const navigate = useNavigate();
  const state = useLocation().state as { missingUser?: number; lockedProfile?: string } | null;
  const missingUser = state?.missingUser;
  useEffect(() => {
    if (missingUser !== undefined && userId === missingUser) setUserId(null);
  }, [missingUser, userId, setUserId]);
  const pages = users.data ? Math.max(1, Math.ceil(users.data.total / PER_PAGE)) : 1;

  // A profile made in the app opens only with its key: without it here, the key form opens instead of a home
  // page the server would refuse.
  const [locked, setLocked] = useState<string | null>(state?.lockedProfile ?? null);
  const choose = (id: number) => {
    const chosen = users.data?.items.find((u) => u.user_id === id);
    if (chosen?.source === "app" && !holdsKey(id)) {
      setLocked(chosen.display_name);
      window.scrollTo(0, 0);
      return;
    }
    setUserId(id);
    void navigate("/");
  };

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-end justify-between gap-4">
        <div>
          <h1 className="text-2xl font-bold tracking-tight">Who is watching?</h1>
          <p className="mt-1 max-w-prose text-sm text-zinc-600 dark:text-zinc-400">
            Start your own profile from a few films you love, or look around as one of the film fans of the MovieLens
            data set, each described by what stands out in their taste.
          </p>
        </div>
        <Link
          to="/onboarding"
          className="inline-flex min-h-11 items-center rounded-md bg-violet-700 px-4 text-sm font-medium text-white hover:bg-violet-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-violet-700"
        >
          Start your profile
        </Link>
      </div>
      {missingUser !== undefined ? (
        <p role="status" className="rounded-md bg-amber-50 p-3 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-100">
          Profile {missingUser} is no longer here: it was deleted, or this server&apos;s data was rebuilt. Start a new profile or choose another.
        </p>
      ) : null}
      <SignInWithKey key={locked ?? ""} lockedName={locked} />
      <div className="max-w-md">
        <label htmlFor="user-search" className="mb-1 block text-sm font-medium">
          Find a profile by name, taste or number
        </label>
        <input
          id="user-search"
          type="search"
          value={query}
          onChange={(event) => {
            setQuery(event.target.value);
            setPage(1);
          }}
          placeholder="e.g. dark comedy, film-noir, 42"
          className="w-full rounded-lg border border-zinc-300 bg-white px-3 py-2 dark:border-zinc-700 dark:bg-zinc-900"
        />
      </div>
      {users.isPending ? (
        <ul className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3" role="status" aria-label="Loading users">
          {Array.from({ length: 9 }, (_, i) => (
            <li key={i}>
              <Skeleton className="h-40 w-full" />
            </li>
          ))}
        </ul>
      ) : users.error ? (
        isBackendDown(users.error) ? null : <ErrorNote message={`Users could not be loaded: ${errorMessage(users.error)}`} />
      ) : users.data.items.length === 0 ? (
        <EmptyState title="No profile matches">Try another name, a genre or tag such as “horror”, or a number.</EmptyState>
      ) : (
        <>
          <p className="text-sm text-zinc-600 dark:text-zinc-400" aria-live="polite">
            {countOf(users.data.total, "profile")}
            {debounced ? ` matching “${debounced}”` : ""}
          </p>
          <ul className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3" data-testid="user-list">
            {users.data.items.map((user) => (
              <li key={user.user_id}>
                <UserCard user={user} current={user.user_id === userId} onChoose={choose} />
              </li>
            ))}
          </ul>
          <Pager label="Pages of users" page={page} pages={pages} onPage={setPage} />
        </>
      )}
    </div>
  );
}
