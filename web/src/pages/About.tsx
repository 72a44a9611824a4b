import type { ReactNode } from "react";
import { Link } from "react-router";

import { useAccess, useCatalogue } from "../api/queries";
import { usePageTitle } from "../lib/usePageTitle";

const code = "rounded bg-zinc-100 px-1 font-mono text-[0.9em] dark:bg-zinc-900";

/** A section of the page under its heading; `id` is the heading's, the anchor links such as /about#film-details
 * point at. */
function Section({ id, title, children }: { id: string; title: string; children: ReactNode }) {
  return (
    <section aria-labelledby={id} className="space-y-2">
      <h2 id={id} className="text-lg font-semibold tracking-tight">
        {title}
      </h2>
      {children}
    </section>
  );
}

/** What Movie Genie is, what it keeps about a person, and (last, for whoever runs the server) how to set it up: the
 * one place in the app for setup words such as API keys. */
export default function About() {
  usePageTitle("About");
  const catalogue = useCatalogue();
  const access = useAccess();
  return (
    <div className="max-w-prose space-y-8">
      <h1 className="text-2xl font-bold tracking-tight">About Movie Genie</h1>
      <Section id="how-heading" title="How it picks films for you">
        <p className="text-sm leading-relaxed">
          Movie Genie learns from the ratings of the MovieLens community which films tend to be loved by the same
          people. Films you rate 4★ or more, and films you like, teach it what you enjoy; films you rate 2★ or less,
          dislike or mark &ldquo;not interested&rdquo; push similar films down your rows at once. Every film it shows
          says why, and the <Link to="/models" className="underline underline-offset-2">Models</Link> page shows how
          well each way of recommending did on ratings it had not seen.
        </p>
      </Section>
      <Section id="data-heading" title="Your profile and your data">
        <p className="text-sm leading-relaxed">
          A profile you start here keeps your ratings and marks on this server and nowhere else. Its key, on your
          profile page, works like a password: with it you can use the profile in another browser. From the profile
          page you can also download your ratings as a file and delete the profile with everything in it.
        </p>
      </Section>
      <Section id="film-details" title="For whoever runs this server">
        <p className="text-sm leading-relaxed">
          {catalogue.data
            ? `The catalogue has ${catalogue.data.movies.toLocaleString()} films, ${catalogue.data.with_overview.toLocaleString()} of them with a plot summary and ${catalogue.data.with_poster.toLocaleString()} with a poster.`
            : null}{" "}
          Plot summaries, posters and cast come from TMDB: set <code className={code}>TMDB_API_KEY</code> (a free key
          from themoviedb.org) and run <code className={code}>make run</code> again, or point{" "}
          <code className={code}>dataset.metadata_csv</code> in <code className={code}>params.yaml</code> at a
          TMDB-style CSV.
        </p>
        {access.data?.demo_mode ? (
          <p className="text-sm leading-relaxed">
            This server runs in local demo mode: anyone who can reach it may rate as any MovieLens profile. Run it
            with demo mode off before sharing it with other people.
          </p>
        ) : null}
        <p className="text-sm leading-relaxed">
          The guide in the repository&apos;s <code className={code}>docs/</code> folder explains the models, the
          evaluation and the API.
        </p>
      </Section>
    </div>
  );
}
