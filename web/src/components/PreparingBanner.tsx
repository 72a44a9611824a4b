import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";

import { useHealth } from "../api/queries";
import type { Health } from "../api/types";

/** The models that serve now, with their versions: when this changes, the lists on screen came from older models. */
function servingModels(health: Health): string {
  return Object.entries(health.checks)
    .filter(([key, check]) => key.startsWith("model:") && check.ok)
    .map(([key, check]) => `${key}=${check.detail ?? ""}`)
    .sort()
    .join(",");
}

/**
 * While a first `make run` trains the heavier models behind the running server: how many are ready, which one is
 * training, and that the rows improve by themselves. When a model joins (health polls every few seconds meanwhile),
 * every list on screen is fetched again, so the person sees the better recommendations without a reload.
 */
export function PreparingBanner() {
  const health = useHealth();
  const client = useQueryClient();
  const serving = health.data ? servingModels(health.data) : null;
  const seen = useRef<string | null>(null);
  useEffect(() => {
    if (serving === null) return;
    if (seen.current !== null && seen.current !== serving) {
      void client.invalidateQueries({ predicate: (query) => query.queryKey[0] !== "health" });
    }
    seen.current = serving;
  }, [serving, client]);

  const preparing = health.data?.preparing;
  if (!preparing) return null;
  const training = preparing.models.find((model) => model.state === "training");
  const failed = preparing.models.filter((model) => model.state === "failed");
  return (
    <div
      role="status"
      data-testid="preparing-banner"
      className="border-b border-violet-200 bg-violet-50 px-4 py-2.5 text-violet-950 dark:border-violet-900 dark:bg-violet-950 dark:text-violet-100"
    >
      <div className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-4 gap-y-1.5 text-sm">
        <p className="min-w-0 flex-1">
          <strong className="font-semibold">Better recommendations are on their way.</strong> {preparing.ready} of{" "}
          {preparing.total} models ready{training ? `; ${training.label} is learning now` : ""}. Your rows switch to
          them by themselves, no need to reload.
          {failed.length > 0
            ? ` ${failed.map((model) => model.label).join(", ")} could not be trained: the terminal running make run says why.`
            : ""}
        </p>
        <progress
          className="h-2 w-full overflow-hidden rounded-full sm:w-40 [&::-moz-progress-bar]:bg-violet-600 [&::-webkit-progress-bar]:bg-violet-200 [&::-webkit-progress-value]:bg-violet-600 dark:[&::-webkit-progress-bar]:bg-violet-900"
          value={preparing.ready}
          max={preparing.total}
          aria-label={`${preparing.ready} of ${preparing.total} models ready`}
        />
      </div>
    </div>
  );
}
