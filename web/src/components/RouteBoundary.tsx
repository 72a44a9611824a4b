import { Component, Suspense, type ErrorInfo, type ReactNode } from "react";

import { markBackendDown } from "../lib/backendStatus";
import { Skeleton } from "./Skeleton";

interface State {
  error: Error | null;
}

function PageFallback() {
  return (
    <div role="status" aria-label="Loading page" className="space-y-4">
      <Skeleton className="h-8 w-64" />
      <Skeleton className="h-48 w-full" />
    </div>
  );
}

/**
 * Suspense for a lazily loaded screen plus an error boundary: a screen whose code cannot be fetched (server
 * stopped after the first load) says so and raises the backend banner instead of leaving a blank page.
 */
export class RouteBoundary extends Component<{ children: ReactNode }, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    if (error instanceof TypeError) markBackendDown("This screen's code could not be downloaded.");
    console.error("screen failed to render", error, info.componentStack);
  }

  override render() {
    if (this.state.error) {
      return (
        <div role="alert" className="mx-auto max-w-md py-16 text-center">
          <h1 className="text-xl font-semibold">This screen could not be shown</h1>
          <p className="mt-2 text-sm text-zinc-600 dark:text-zinc-400">{this.state.error.message}</p>
          <button
            type="button"
            onClick={() => {
              window.location.reload();
            }}
            className="mt-6 rounded-md bg-violet-700 px-4 py-2 text-sm font-medium text-white hover:bg-violet-800"
          >
            Reload
          </button>
        </div>
      );
    }
    return <Suspense fallback={<PageFallback />}>{this.props.children}</Suspense>;
  }
}
