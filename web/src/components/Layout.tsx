import { useEffect } from "react";
import { Link, Navigate, NavLink, Outlet, useLocation } from "react-router";

import { ApiError } from "../api/errors";
import { useAccess, useHealth, useUser } from "../api/queries";
import { useSession } from "../lib/session";
import { useTheme } from "../lib/theme";
import { BackendBanner } from "./BackendBanner";
import { PreparingBanner } from "./PreparingBanner";

const navClass = ({ isActive }: { isActive: boolean }) =>
  `inline-flex min-h-11 items-center rounded-md px-2.5 text-sm font-medium focus-visible:outline-2 focus-visible:outline-violet-600 ${
    isActive ? "bg-zinc-200 dark:bg-zinc-800" : "hover:bg-zinc-100 dark:hover:bg-zinc-900"
  }`;

/** The frame of every page: skip link, header with navigation, user and theme switch, the backend banner. */
export function Layout() {
  const { userId } = useSession();
  const [theme, toggleTheme] = useTheme();
  useHealth(); // polled: raises the banner when the server stops, lowers it when it is back
    const user = useUser(userId);
  const access = useAccess();
  const { pathname } = useLocation();
  // A new page starts at its top, not where the last one was scrolled to.
  useEffect(() => {
    window.scrollTo(0, 0);
  }, [pathname]);
  // The stored user is gone (e.g. the database was rebuilt): every page sends them back to the picker, which
  // forgets the id and says why. The picker and onboarding work without a user.
  const userGone = userId !== null && user.error instanceof ApiError && user.error.status === 404;
  if (userGone && pathname !== "/users" && pathname !== "/onboarding") {
    return <Navigate to="/users" replace state={{ missingUser: userId }} />;
  }
  return (
    <div className="min-h-screen">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2 focus:text-black"
      >
        Skip to content
      </a>
      <BackendBanner />
      <PreparingBanner />
      {/* Sticky only where there is height to spare: on a phone the header scrolls away with the page. */}
      <header className="z-30 border-b sm:sticky sm:top-0 border-zinc-200 bg-white/90 backdrop-blur dark:border-zinc-800 dark:bg-zinc-950/90">
        <div className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-4 gap-y-1 px-4 py-2">
          <Link to="/" className="flex min-h-11 items-center gap-2 rounded font-bold tracking-tight focus-visible:outline-2 focus-visible:outline-violet-600">
            <img src="/favicon.svg" alt="" width={24} height={24} />
            Movie Genie
          </Link>
          <nav aria-label="Main" className="order-last flex w-full items-center gap-1 sm:order-none sm:w-auto">
            <NavLink to="/" end className={navClass}>
              Home
            </NavLink>
            <NavLink to="/search" className={navClass}>
              Search
            </NavLink>
            <NavLink to="/models" className={navClass}>
              Models
            </NavLink>
            {userId ? (
              <NavLink to={`/users/${userId}`} className={navClass} data-testid="profile-link">
                Profile
              </NavLink>
            ) : null}
          </nav>
          <div className="ml-auto flex items-center gap-2">
            {access.data?.demo_mode ? (
              <Link
                to="/about#film-details"
                className="hidden rounded-full border border-amber-300 bg-amber-50 px-2 py-0.5 text-xs text-amber-900 md:inline dark:border-amber-700 dark:bg-amber-950 dark:text-amber-200"
                title={access.data.notice ?? undefined}
                data-testid="demo-mode"
              >
                Demo mode
              </Link>
            ) : null}
            <Link
              to="/users"
              // On a phone the nav's Profile (and the home page's "switch profile") stand in for it, so the header
              // keeps to two short rows.
              className={`${userId ? "hidden sm:inline-flex" : "inline-flex"} min-h-11 max-w-64 items-center rounded-md border border-zinc-300 px-2.5 text-sm hover:bg-zinc-100 focus-visible:outline-2 focus-visible:outline-violet-600 dark:border-zinc-700 dark:hover:bg-zinc-900`}
              data-testid="current-user"
            >
              {userId ? (
                <>
                  <span className="truncate">{user.data?.display_name ?? `Profile ${userId}`}</span>
                  <span className="hidden shrink-0 sm:inline">&nbsp;· switch</span>
                </>
              ) : (
                "Choose a profile"
              )}
            </Link>
            <button
              type="button"
              onClick={toggleTheme}
              aria-label={theme === "dark" ? "Switch to light mode" : "Switch to dark mode"}
              className="flex min-h-11 min-w-11 items-center justify-center rounded-md hover:bg-zinc-100 focus-visible:outline-2 focus-visible:outline-violet-600 dark:hover:bg-zinc-900"
            >
              <span aria-hidden="true">{theme === "dark" ? "☀" : "☾"}</span>
            </button>
          </div>
        </div>
      </header>
      {/* At least a screen tall: the footer starts below the fold, so content arriving after the first paint does not
          push it down (a layout shift Lighthouse counts against the app). */}
      <main id="main" tabIndex={-1} className="mx-auto min-h-screen max-w-7xl px-4 py-6 focus:outline-none">
        <Outlet />
      </main>
      <footer className="mx-auto max-w-7xl border-t border-zinc-200 px-4 py-6 text-sm text-zinc-600 dark:border-zinc-800 dark:text-zinc-400">
        <Link to="/about" className="inline-flex min-h-11 items-center underline underline-offset-2">
          About Movie Genie and your data
        </Link>
      </footer>
    </div>
  );
}
