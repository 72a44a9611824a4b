import { Link } from "react-router";

import { useCatalogue } from "../api/queries";

const WHAT_IT_MEANS = {
  search: "Search finds films by title, genre and viewers' tags, but not by what a film is about.",
  details: "This page shows the film's genres, viewers' tags and ratings.",
} as const;

/**
 * A calm note where missing metadata matters (search, a film's page): says what is missing in plain words; how to
 * add it (an API key, a CSV) is for whoever runs the server, on the About page. Shown only when no film of the
 * catalogue has a plot summary; hidden while loading or if the question fails.
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
        <span className="font-medium">No plot summaries or posters on this server yet.</span> {WHAT_IT_MEANS[where]}{" "}
        <Link to="/about#film-details" className="underline underline-offset-2">
          How to add them
        </Link>
      </p>
    </aside>
  );
}
