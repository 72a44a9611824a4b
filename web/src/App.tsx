import { lazy, useEffect } from "react";
import { Route, Routes } from "react-router";

import { Layout } from "./components/Layout";
import { RouteBoundary } from "./components/RouteBoundary";
import { Home } from "./pages/Home";
import { NotFound } from "./pages/NotFound";

// Home is in the main chunk (first paint of the rows); the other screens are split out and fetched while the
// browser is idle after the first render, so later navigation is instant and still works if the server goes away.
const screens = {
  users: () => import("./pages/UserPicker"),
  profile: () => import("./pages/UserProfile"),
  onboarding: () => import("./pages/Onboarding"),
  search: () => import("./pages/SearchPage"),
  movie: () => import("./pages/MovieDetails"),
  models: () => import("./pages/Dashboard"),
  about: () => import("./pages/About"),
};
const UserPicker = lazy(screens.users);
const UserProfile = lazy(screens.profile);
const Onboarding = lazy(screens.onboarding);
const SearchPage = lazy(screens.search);
const MovieDetails = lazy(screens.movie);
const Dashboard = lazy(screens.models);
const About = lazy(screens.about);

function usePrefetchScreens(): void {
  useEffect(() => {
    const prefetch = () => {
      for (const load of Object.values(screens)) load().catch(() => undefined); // a failure shows on navigation
    };
    const timer = window.setTimeout(prefetch, 300);
    return () => {
      window.clearTimeout(timer);
    };
  }, []);
}

/** The routes; client-side paths fall back to index.html on the server. */
export function App() {
  usePrefetchScreens();
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<Home />} />
        <Route path="users" element={<RouteBoundary><UserPicker /></RouteBoundary>} />
        <Route path="users/:userId" element={<RouteBoundary><UserProfile /></RouteBoundary>} />
        <Route path="onboarding" element={<RouteBoundary><Onboarding /></RouteBoundary>} />
        <Route path="search" element={<RouteBoundary><SearchPage /></RouteBoundary>} />
        <Route path="movies/:movieId" element={<RouteBoundary><MovieDetails /></RouteBoundary>} />
        <Route path="models" element={<RouteBoundary><Dashboard /></RouteBoundary>} />
        <Route path="about" element={<RouteBoundary><About /></RouteBoundary>} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}
