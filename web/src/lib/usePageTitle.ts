import { useEffect } from "react";

const APP = "Movie Genie";

/** Name the browser tab after the page ("Heat (1995) — Movie Genie"): people with many tabs, and screen readers
 * announcing a navigation, learn where they are. `null` (still loading) keeps the app's name alone. */
export function usePageTitle(title: string | null): void {
  useEffect(() => {
    document.title = title ? `${title} — ${APP}` : APP;
  }, [title]);
}
