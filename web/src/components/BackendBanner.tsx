import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { fetchHealth } from "../api/endpoints";
import { isBackendDown } from "../api/errors";
import { markBackendDown, markBackendUp, useBackendStatus } from "../lib/backendStatus";

/** A banner across the top while the backend cannot be reached, with a retry that refetches everything on screen. */
export function BackendBanner() {
  const { down, message } = useBackendStatus();
  const client = useQueryClient();
  const [checking, setChecking] = useState(false);
  if (!down) return null;

  const retry = async () => {
    setChecking(true);
    try {
      await fetchHealth();
      markBackendUp();
      await client.refetchQueries({ type: "active" });
    } catch (error) {
      // Any HTTP answer (even 503 "not_ready") means the server runs; only a failed connection keeps the banner.
      if (isBackendDown(error)) markBackendDown((error as Error).message);
      else {
        markBackendUp();
        await client.refetchQueries({ type: "active" });
      }
    } finally {
      setChecking(false);
    }
  };

  return (
    <div
      role="alert"
      data-testid="backend-down"
      className="border-b border-red-300 bg-red-50 px-4 py-3 text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100"
    >
      <div className="mx-auto flex max-w-7xl flex-wrap items-center gap-3">
        <p className="flex-1 text-sm">
          <strong className="font-semibold">The Movie Genie server is not responding.</strong> {message} Start it with{" "}
          <code className="rounded bg-red-100 px-1 dark:bg-red-900">make run</code> (port 5001); nothing on this page
          is shown until it answers.
        </p>
        <button
          type="button"
          onClick={() => void retry()}
          disabled={checking}
          className="rounded-md bg-red-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-red-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-red-700 disabled:opacity-60"
        >
          {checking ? "Checking…" : "Retry"}
        </button>
      </div>
    </div>
  );
}
