import { Link } from "react-router";

import { useCatalogue } from "../api/queries";

/**
 * Where missing metadata matters, a calm line in the film fan's words. On Search it says what search can and
 * cannot do without plot summaries (how to add them is for whoever runs the server: the About page); on a film's
 * page, only that there is no summary. Shown only when no film of the catalogue has one; hidden while loading or if
 * the question fails.
 */
export function MetadataNotice({ where }: { where: "search" | "details" }) {
  const catalogue = useCatalogue();
  if (!catalogue.data || catalogue.data.with_overview > 0) return null;
  if (where === "details") {
    return (
      <p className="text-sm text-zinc-600 dark:text-zinc-400" data-testid="metadata-notice">
        No plot summary for this film yet.
      </p>
    );
  }
  return (
    <aside
      aria-label="Missing film details"
      data-testid="metadata-notice"
      className="rounded-lg border border-sky-200 bg-sky-50 p-3 text-sm text-sky-950 dark:border-sky-900 dark:bg-sky-950 dark:text-sky-100"
    >
      <p>
        Search finds films by title, genre and viewers&apos; tags, but not by what a film is about: this server has
        no plot summaries yet.{" "}
        <Link to="/about#film-details" className="underline underline-offset-2">
          About this server
        </Link>
      </p>
    </aside>
  );
}
