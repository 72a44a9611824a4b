import { useEffect, useState, type KeyboardEvent } from "react";
import { useNavigate, useSearchParams } from "react-router";

import { errorMessage, isBackendDown } from "../api/errors";
import { recordClick, useGenres, useSearch, useSuggestions } from "../api/queries";
import type { SearchMode } from "../api/types";
import { EmptyState, ErrorNote } from "../components/EmptyState";
import { MetadataNotice } from "../components/MetadataNotice";
import { MovieCard } from "../components/MovieCard";
import { PeopleNeedDetails, QueryChips } from "../components/QueryChips";
import { SearchBox } from "../components/SearchBox";
import { Skeleton } from "../components/Skeleton";
import { useSession } from "../lib/session";
import { countOf } from "../lib/users";
import { useDebouncedValue } from "../lib/useDebouncedValue";
import { usePageTitle } from "../lib/usePageTitle";

const MODES: { value: SearchMode; label: string; hint: string }[] = [
  { value: "hybrid", label: "Best match", hint: "what it is about and the words you typed, together" },
  { value: "semantic", label: "By meaning", hint: "what a film is about: “films about lonely robots”" },
  { value: "lexical", label: "By words", hint: "the exact words in titles, plots and tags" },
  { value: "title", label: "By title", hint: "the film's title, even misspelt" },
];

// What each retriever compared, in words, for a hit with no reason of its own: "Matches its title and its words".
const MATCHED: Record<string, string> = {
  semantic: "what it is about",
  lexical: "its words",
  title: "its title",
  theme: "its keywords or tags",
};

function matchedBy(retrievers: string[]): string | null {
  const parts = retrievers.map((r) => MATCHED[r] ?? r);
  if (!parts.length) return null;
  return `Matches ${parts.length > 1 ? `${parts.slice(0, -1).join(", ")} and ${parts.at(-1) ?? ""}` : (parts[0] ?? "")}`;
}

function toMode(value: string | null): SearchMode {
  return value === "semantic" || value === "title" || value === "lexical" ? value : "hybrid";
}

function toYear(value: string | null): number | undefined {
  const year = Number(value);
  return value && Number.isInteger(year) && year > 1800 && year < 2200 ? year : undefined;
}

function yearRange(from: number | undefined, to: number | undefined): string {
  if (from !== undefined && to !== undefined) return `${String(from)}–${String(to)}`;
  if (from !== undefined) return `from ${String(from)}`;
  return to !== undefined ? `up to ${String(to)}` : "";
}

/**
 * Search as you type: modes, genre and year filters (alone they browse), title suggestions, "did you mean", a results
 * grid; state lives in the URL. Year fields apply on Enter or when they lose focus; Enter in the search box applies
 * them too.
 */
export default function SearchPage() {
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const [text, setText] = useState(params.get("q") ?? "");
  const debounced = useDebouncedValue(text.trim(), 300);
  const mode = toMode(params.get("mode"));
  const genre = params.get("genre") ?? "";
  const yearMin = toYear(params.get("year_min"));
  const yearMax = toYear(params.get("year_max"));
  const [yearMinText, setYearMinText] = useState(yearMin !== undefined ? String(yearMin) : "");
  const [yearMaxText, setYearMaxText] = useState(yearMax !== undefined ? String(yearMax) : "");
  const ignore = params.getAll("ignore");
  const browsing = !debounced && (Boolean(genre) || yearMin !== undefined || yearMax !== undefined);
  const genres = useGenres();
  const suggestions = useSuggestions(debounced);
  const { userId } = useSession();
  const results = useSearch({
    q: debounced,
    mode,
    genre: genre || undefined,
    yearMin,
    yearMax,
    userId: userId ?? undefined,
    ignore,
  });
  usePageTitle(debounced ? `Search: ${debounced}` : "Search");

  // Keep the URL in step with what was typed (shareable, back button works) without a history entry per key.
  useEffect(() => {
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        // A new query is read afresh: the chips removed from the last one do not carry over.
        if ((current.get("q") ?? "") !== debounced) next.delete("ignore");
        if (debounced) next.set("q", debounced);
        else next.delete("q");
        return next;
      },
      { replace: true },
    );
  }, [debounced, setParams]);

  const setParam = (key: string, value: string) => {
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        if (value) next.set(key, value);
        else next.delete(key);
        return next;
      },
      { replace: true },
    );
  };

  // Both year fields at once, as typed (an invalid year is dropped by toYear when read back).
  const applyYears = () => {
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        for (const [key, value] of [
          ["year_min", yearMinText.trim()],
          ["year_max", yearMaxText.trim()],
        ] as const) {
          if (value) next.set(key, value);
          else next.delete(key);
        }
        return next;
      },
      { replace: true },
    );
  };

  const onYearKey = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "Enter") {
      event.preventDefault();
      applyYears();
    }
  };

  // Remove a chip (its words are then searched as plain words) or put it back.
  const setIgnored = (key: string, on: boolean) => {
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        const keys = next.getAll("ignore").filter((k) => k !== key);
        next.delete("ignore");
        for (const k of on ? [...keys, key] : keys) next.append("ignore", k);
        return next;
      },
      { replace: true },
    );
  };

  const filterSummary = [genre, yearRange(yearMin, yearMax)].filter(Boolean).join(", ");
  // With a user chosen, the results were logged as an impression: opening a film from them is a click on it.
  const opener = (impression: string | null, movieId: number) =>
    impression === null
      ? undefined
      : () => {
          recordClick(impression, movieId);
        };

  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-bold tracking-tight">Search</h1>
      <MetadataNotice where="search" />
      <SearchBox
        value={text}
        onChange={setText}
        onSubmit={(value) => {
          setText(value);
          applyYears();
        }}
        onPick={(option) => {
          void navigate(`/movies/${option.id}`);
        }}
        suggestions={(suggestions.data ?? []).map((s) => ({
          id: s.movie_id,
          label: s.title,
          detail: s.year ? String(s.year) : undefined,
        }))}
      />
      <div className="flex flex-wrap items-end gap-4">
        <fieldset>
          <legend className="mb-1 text-sm font-medium">Search by</legend>
          <div className="inline-flex rounded-lg border border-zinc-300 p-0.5 dark:border-zinc-700">
            {MODES.map((m) => (
              <label
                key={m.value}
                title={m.hint}
                className={`cursor-pointer rounded-md px-3 py-1.5 text-sm has-[:focus-visible]:outline-2 has-[:focus-visible]:outline-violet-600 ${
                  mode === m.value ? "bg-violet-700 text-white" : "hover:bg-zinc-100 dark:hover:bg-zinc-800"
                }`}
              >
                <input
                  type="radio"
                  name="mode"
                  value={m.value}
                  checked={mode === m.value}
                  onChange={() => {
                    setParam("mode", m.value === "hybrid" ? "" : m.value);
                  }}
                  className="sr-only"
                />
                {m.label}
              </label>
            ))}
          </div>
        </fieldset>
        <div>
          <label htmlFor="genre-filter" className="mb-1 block text-sm font-medium">
            Genre
          </label>
          <select
            id="genre-filter"
            value={genre}
            onChange={(event) => {
              setParam("genre", event.target.value);
            }}
            className="rounded-lg border border-zinc-300 bg-white px-3 py-2 text-sm dark:border-zinc-700 dark:bg-zinc-900"
          >
            <option value="">Any genre</option>
            {(genres.data ?? []).map((g) => (
              <option key={g.genre} value={g.genre}>
                {g.genre} ({g.count})
              </option>
            ))}
          </select>
        </div>
        <div className="flex items-end gap-2">
          <div>
            <label htmlFor="year-min" className="mb-1 block text-sm font-medium">
              From year
            </label>
            <input
              id="year-min"
              type="number"
              inputMode="numeric"
              min={1900}
              max={2100}
              value={yearMinText}
              onChange={(event) => {
                setYearMinText(event.target.value);
              }}
              onKeyDown={onYearKey}
              onBlur={applyYears}
              className="w-24 rounded-lg border border-zinc-300 bg-white px-3 py-2 text-sm dark:border-zinc-700 dark:bg-zinc-900"
            />
          </div>
          <div>
            <label htmlFor="year-max" className="mb-1 block text-sm font-medium">
              To year
            </label>
            <input
              id="year-max"
              type="number"
              inputMode="numeric"
              min={1900}
              max={2100}
              value={yearMaxText}
              onChange={(event) => {
                setYearMaxText(event.target.value);
              }}
              onKeyDown={onYearKey}
              onBlur={applyYears}
              className="w-24 rounded-lg border border-zinc-300 bg-white px-3 py-2 text-sm dark:border-zinc-700 dark:bg-zinc-900"
            />
          </div>
        </div>
      </div>
      {debounced && results.data ? (
        <div className="space-y-3">
          <QueryChips
            understood={results.data.understood}
            ignored={ignore}
            onIgnore={(key) => {
              setIgnored(key, true);
            }}
            onRestore={(key) => {
              setIgnored(key, false);
            }}
          />
          {results.data.people_need_details ? (
            <PeopleNeedDetails name={results.data.understood.find((u) => u.kind === "person")?.value} />
          ) : null}
        </div>
      ) : null}
      <section aria-labelledby="results-heading" aria-busy={results.isFetching}>
        <h2 id="results-heading" className="sr-only">
          Results
        </h2>
        {!debounced && !browsing ? (
          <EmptyState title="Type to search">
            Try “action movies with robots”, a title like “toy story”, or a mood like “feel-good comedy”.
          </EmptyState>
        ) : results.isPending ? (
          <ul className="grid grid-cols-2 gap-4 sm:grid-cols-4 lg:grid-cols-6" role="status" aria-label="Loading results">
            {Array.from({ length: 12 }, (_, i) => (
              <li key={i}>
                <Skeleton className="aspect-[2/3] w-full" />
              </li>
            ))}
          </ul>
        ) : results.error ? (
          isBackendDown(results.error) ? null : <ErrorNote message={`Search failed: ${errorMessage(results.error)}`} />
        ) : results.data.items.length === 0 ? (
          results.data.no_close_match ? (
            <EmptyState title={`No close matches for “${debounced}”`}>
              Nothing in the catalogue is close to these words. Check the title&apos;s spelling, or describe the film:
              “heist thriller”, “films about lonely robots”.
            </EmptyState>
          ) : (
            <EmptyState title={debounced ? `Nothing found for “${debounced}”` : "No films match these filters"}>
              Try other words, or fewer filters.
            </EmptyState>
          )
        ) : (
          <>
            {results.data.did_you_mean ? (
              <p className="mb-2 text-sm">
                Showing results for{" "}
                <button
                  type="button"
                  className="font-semibold text-violet-700 underline dark:text-violet-300"
                  onClick={() => {
                    setText(results.data.did_you_mean ?? "");
                  }}
                >
                  {results.data.did_you_mean}
                </button>{" "}
                instead.
              </p>
            ) : null}
            <p className="mb-3 text-sm text-zinc-600 dark:text-zinc-400" aria-live="polite">
              {debounced
                ? `${countOf(results.data.items.length, "film")} for “${debounced}”${filterSummary ? ` in ${filterSummary}` : ""}`
                : `${countOf(results.data.items.length, "best-known film")} in ${filterSummary}`}
            </p>
            <ul className="grid grid-cols-2 gap-4 sm:grid-cols-4 lg:grid-cols-6" data-testid="search-results">
              {results.data.items.map((hit) => (
                <li key={hit.movie.movie_id}>
                  <MovieCard
                    movie={hit.movie}
                    reason={hit.reason?.label ?? matchedBy(hit.matched_by)}
                    onOpen={opener(results.data.impression_id, hit.movie.movie_id)}
                  />
                </li>
              ))}
            </ul>
          </>
        )}
      </section>
    </div>
  );
}
