import { lazy, Suspense } from "react";
import { Route, Routes } from "react-router";

import { Layout } from "./components/Layout";
import { Skeleton } from "./components/Skeleton";
import { Home } from "./pages/Home";
import { NotFound } from "./pages/NotFound";

// Home is in the main chunk (first paint of the rows); the other screens load when first visited.
const UserPicker = lazy(() => import("./pages/UserPicker"));
const Onboarding = lazy(() => import("./pages/Onboarding"));
const SearchPage = lazy(() => import("./pages/SearchPage"));
const MovieDetails = lazy(() => import("./pages/MovieDetails"));
const Dashboard = lazy(() => import("./pages/Dashboard"));

function PageFallback() {
  return (
    <div role="status" aria-label="Loading page" className="space-y-4">
      <Skeleton className="h-8 w-64" />
      <Skeleton className="h-48 w-full" />
    </div>
  );
}

/** The routes; client-side paths fall back to index.html on the server. */
export function App() {
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<Home />} />
        <Route path="users" element={<Suspense fallback={<PageFallback />}><UserPicker /></Suspense>} />
        <Route path="onboarding" element={<Suspense fallback={<PageFallback />}><Onboarding /></Suspense>} />
        <Route path="search" element={<Suspense fallback={<PageFallback />}><SearchPage /></Suspense>} />
        <Route path="movies/:movieId" element={<Suspense fallback={<PageFallback />}><MovieDetails /></Suspense>} />
        <Route path="models" element={<Suspense fallback={<PageFallback />}><Dashboard /></Suspense>} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}
