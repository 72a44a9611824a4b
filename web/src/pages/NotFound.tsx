import { Link } from "react-router";
import { usePageTitle } from "../lib/usePageTitle";

/** The 404 page for any path the app does not know. */
export function NotFound({ what = "page" }: { what?: string }) {
  usePageTitle(`This ${what} does not exist`);
  return (
    <div className="mx-auto max-w-md py-16 text-center" data-testid="not-found">
      <p className="text-5xl font-bold text-violet-600">404</p>
      <h1 className="mt-3 text-xl font-semibold">This {what} does not exist</h1>
      <p className="mt-2 text-sm text-zinc-600 dark:text-zinc-400">The link may be old or mistyped.</p>
      <Link to="/" className="mt-6 inline-block rounded-md bg-violet-700 px-4 py-2 text-sm font-medium text-white hover:bg-violet-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-violet-700">
        Back to your recommendations
      </Link>
    </div>
  );
}
