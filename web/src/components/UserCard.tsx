import { Link } from "react-router";

import type { UserSummary } from "../api/types";
import { activityLine, countOf, liftLabel } from "../lib/users";

/** The distinctive genres (violet) and tags (grey) of a user, each saying how far above the average it is. */
export function TasteChips({ user, max = 6 }: { user: Pick<UserSummary, "taste">; max?: number }) {
  if (user.taste.length === 0) {
    return <p className="text-xs text-zinc-600 dark:text-zinc-400">No genre stands out: a bit of everything.</p>;
  }
  return (
    <ul className="flex flex-wrap gap-1" aria-label="Distinctive taste">
      {user.taste.slice(0, max).map((trait) => (
        <li
          key={`${trait.kind}:${trait.name}`}
          title={`${trait.name}: ${liftLabel(trait)} (${countOf(trait.count, "film")} they liked)`}
          className={`rounded-full px-2 py-0.5 text-xs ${
            trait.kind === "genre"
              ? "bg-violet-100 text-violet-900 dark:bg-violet-950 dark:text-violet-200"
              : "bg-zinc-100 text-zinc-800 dark:bg-zinc-800 dark:text-zinc-200"
          }`}
        >
          {trait.kind === "tag" ? `#${trait.name}` : trait.name}
        </li>
      ))}
    </ul>
  );
}

/** A user as people see them in the picker and in "people with similar taste": activity, distinctive taste and
 * favourite films, with a button to watch as them and a link to their profile. */
export function UserCard({
  user,
  current,
  onChoose,
  score,
}: {
  user: UserSummary;
  current: boolean;
  onChoose: (userId: number) => void;
  score?: string | undefined;
}) {
  const favourites = user.favourites.map((m) => m.title).join(", ");
  return (
    <article
      className={`flex h-full flex-col gap-2 rounded-lg border p-3 ${
        current ? "border-violet-500" : "border-zinc-200 dark:border-zinc-800"
      }`}
      aria-label={user.display_name}
      data-testid="user-card"
    >
      <div className="flex items-baseline justify-between gap-2">
        <h2 className="font-medium">{user.display_name}</h2>
        {score ? <span className="text-xs text-zinc-600 dark:text-zinc-400">{score}</span> : null}
      </div>
      {user.private ? (
        <p className="text-xs text-zinc-600 dark:text-zinc-400" data-testid="user-activity">
          A private profile: its taste and films are for its owner to see.
        </p>
      ) : (
        <>
          <p className="text-xs text-zinc-600 dark:text-zinc-400" data-testid="user-activity">
            {activityLine(user)}
          </p>
          <TasteChips user={user} />
        </>
      )}
      {favourites ? (
        <p className="line-clamp-2 text-xs text-zinc-700 dark:text-zinc-300" data-testid="user-favourites">
          <span className="font-medium">Favourites:</span> {favourites}
        </p>
      ) : null}
      <div className="mt-auto flex items-center gap-2 pt-1">
        <button
          type="button"
          onClick={() => {
            onChoose(user.user_id);
          }}
          data-testid="user-option"
          data-user-id={user.user_id}
          aria-label={`Use ${user.display_name}`}
          className="inline-flex min-h-11 items-center rounded-md bg-violet-700 px-4 text-sm font-medium text-white hover:bg-violet-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-violet-700"
        >
          {current ? "In use" : "Use"}
        </button>
        <Link
          to={`/users/${user.user_id}`}
          aria-label={`Profile of ${user.display_name}`}
          className="inline-flex min-h-11 items-center rounded-md border border-zinc-300 px-4 text-sm hover:bg-zinc-100 focus-visible:outline-2 focus-visible:outline-violet-600 dark:border-zinc-700 dark:hover:bg-zinc-900"
        >
          Profile
        </Link>
      </div>
    </article>
  );
}
