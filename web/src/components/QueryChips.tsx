import { Link } from "react-router";

import type { Understood } from "../api/types";

const KIND_LABELS: Record<Understood["kind"], string> = {
  person: "Person",
  genre: "Genre",
  decade: "Decade",
  mood: "Mood",
  theme: "Theme",
};

/**
 * How the search read the query, as chips: "Person: Tom Hanks", "Genre: Comedy". Removing a chip searches again with
 * its words read as plain words; a removed reading stays as a dashed chip that puts it back.
 */
export function QueryChips({
  understood,
  ignored,
  onIgnore,
  onRestore,
}: {
  understood: Understood[];
  ignored: string[];
  onIgnore: (key: string) => void;
  onRestore: (key: string) => void;
}) {
  if (!understood.length && !ignored.length) return null;
  return (
    <div className="flex flex-wrap items-center gap-2 text-sm" data-testid="query-chips">
      <span className="text-zinc-600 dark:text-zinc-400">Read as</span>
      <ul className="flex flex-wrap gap-2" aria-label="How the search read your words">
        {understood.map((u) => (
          <li
            key={u.key}
            className="inline-flex items-center gap-1 rounded-full bg-violet-100 py-0.5 pr-1 pl-3 text-violet-950 dark:bg-violet-950 dark:text-violet-100"
            title={`From “${u.words}”${u.kind === "mood" || u.kind === "theme" ? ": lifts these films" : ": only these films"}`}
          >
            <span>
              <span className="font-medium">{KIND_LABELS[u.kind]}:</span> {u.value}
            </span>
            <button
              type="button"
              onClick={() => {
                onIgnore(u.key);
              }}
              aria-label={`Search without ${KIND_LABELS[u.kind].toLowerCase()} ${u.value}`}
              className="rounded-full px-1.5 leading-5 hover:bg-violet-200 focus-visible:outline-2 focus-visible:outline-violet-600 dark:hover:bg-violet-900"
            >
              ×
            </button>
          </li>
        ))}
        {ignored.map((key) => (
          <li key={key}>
            <button
              type="button"
              onClick={() => {
                onRestore(key);
              }}
              aria-label={`Read ${key.replace(":", " ")} again`}
              className="rounded-full border border-dashed border-zinc-400 px-3 py-0.5 text-zinc-600 hover:bg-zinc-100 dark:border-zinc-600 dark:text-zinc-400 dark:hover:bg-zinc-800"
            >
              + {key.replace(":", ": ")}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * A name was searched for, but this server has no cast or director lists: say so, say how to get them, and say what
 * the results are instead (films whose viewers' tags name the person).
 */
export function PeopleNeedDetails({ name }: { name: string | undefined }) {
  return (
    <aside
      aria-label="People search needs film details"
      data-testid="people-need-details"
      className="rounded-lg border border-amber-200 bg-amber-50 p-3 text-sm text-amber-950 dark:border-amber-900 dark:bg-amber-950 dark:text-amber-100"
    >
      <p>
        Searching by actor or director needs film details (cast and crew), which this server does not have yet; whoever
        runs it can add them with a free TMDB API key.{" "}
        <Link to="/about#film-details" className="underline underline-offset-2">
          How to add film details
        </Link>
      </p>
      {name ? <p className="mt-1">Meanwhile, these are the films viewers tagged “{name}”.</p> : null}
    </aside>
  );
}
