import { useCatalogue } from "../api/queries";

const WHAT_IT_MEANS = {
  search: "Search can match titles, genres and viewer tags, but not what a film is about.",
  details: "Films show their title, year, genres, viewer tags and ratings only.",
} as const;

/**
 * A calm note where missing metadata matters (search, a film's page): says what is missing and how to add it.
 * Shown only when no film of the catalogue has a plot summary; hidden while loading or if the question fails.
 */
export function MetadataNotice({ where }: { where: keyof typeof WHAT_IT_MEANS }) {
  const catalogue = useCatalogue();
  if (!catalogue.data || catalogue.data.with_overview > 0) return null;
  return (
    <aside
      aria-label="Missing film details"
      data-testid="metadata-notice"
      className="rounded-lg border border-sky-200 bg-sky-50 p-3 text-sm text-sky-950 dark:border-sky-900 dark:bg-sky-950 dark:text-sky-100"
    >
      <p>
        <span className="font-medium">No plot summaries, posters or cast yet.</span> {WHAT_IT_MEANS[where]}
      </p>
      <p className="mt-1">
        To add them, set <code className="font-mono">TMDB_API_KEY</code> (a free key from themoviedb.org) and run{" "}
        <code className="font-mono">make run</code> again, or point <code className="font-mono">dataset.metadata_csv</code>{" "}
        in <code className="font-mono">params.yaml</code> at a TMDB-style CSV.
      </p>
    </aside>
  );
}
