import "./index.css";

import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";
import { registerSW } from "virtual:pwa-register";

import { ApiError, errorMessage, isBackendDown } from "./api/errors";
import { App } from "./App";
import { OfflineNotice } from "./components/OfflineNotice";
import { ToastProvider } from "./components/Toasts";
import { markBackendDown, markBackendUp } from "./lib/backendStatus";
import { watchOffline } from "./lib/offlineStatus";
import { SessionProvider } from "./lib/session";

/** Every answer tells whether the backend is up; a failed connection raises the banner, any answer lowers it. */
function track(error: unknown): void {
  if (isBackendDown(error)) markBackendDown(errorMessage(error));
  else if (error instanceof ApiError) markBackendUp();
}

const queryClient = new QueryClient({
  queryCache: new QueryCache({ onError: track, onSuccess: markBackendUp }),
  mutationCache: new MutationCache({ onError: track, onSuccess: markBackendUp }),
  defaultOptions: {
    queries: {
      staleTime: 30_000,
      refetchOnWindowFocus: false,
      // Client errors (404, 400) will not change on retry; a down server is retried once, then the banner shows.
      retry: (failureCount, error) => !(error instanceof ApiError && error.status < 500) && failureCount < 1,
    },
  },
});

// The installable app's service worker (sw/sw.ts): with a new build it takes over and the page reloads onto it, so a
// phone never keeps running an old build. Kept home rows are dated on screen (OfflineNotice).
watchOffline();
registerSW({ immediate: true });

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");

createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <SessionProvider>
        <ToastProvider>
          <BrowserRouter>
            <OfflineNotice />
            <App />
          </BrowserRouter>
        </ToastProvider>
      </SessionProvider>
    </QueryClientProvider>
  </StrictMode>,
);
