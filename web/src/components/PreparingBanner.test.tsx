import { screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { Health } from "../api/types";
import { renderAt, stubApi } from "../test/api";
import { PreparingBanner } from "./PreparingBanner";

/** /api/health while a first run has trained EASE and popularity and trains SASRec, then BERT4Rec. */
function healthWhilePreparing(ready: string[]): Health {
  const models = ["sasrec", "bert4rec"].map((name) => ({
    name,
    label: name === "sasrec" ? "SASRec" : "BERT4Rec",
    state: ready.includes(name) ? ("ready" as const) : name === "sasrec" || ready.includes("sasrec") ? ("training" as const) : ("waiting" as const),
    seconds: ready.includes(name) ? 80 : null,
  }));
  const loaded = ["ease", "popularity", ...ready];
  return {
    status: "ready",
    degraded: false,
    capabilities: {},
    checks: Object.fromEntries(
      ["ease", "popularity", "sasrec", "bert4rec"].map((name) => [
        `model:${name}`,
        { ok: loaded.includes(name), detail: loaded.includes(name) ? "version abc" : "still training" },
      ]),
    ),
    preparing: { started_at: "2026-12-07T22:00:00Z", ready: ready.length, total: 2, models },
  };
}

describe("PreparingBanner", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("says in words how many models are ready and which one is learning", async () => {
    stubApi({ "/api/health": healthWhilePreparing([]) });
    renderAt(<PreparingBanner />, "/");
    const banner = await screen.findByTestId("preparing-banner");
    expect(banner).toHaveTextContent("Better recommendations are on their way.");
    expect(banner).toHaveTextContent("0 of 2 models ready; SASRec is learning now.");
    expect(banner).toHaveTextContent("no need to reload");
    expect(screen.getByRole("progressbar", { name: "0 of 2 models ready" })).toBeInTheDocument();
  });

  it("is absent when nothing is being prepared", async () => {
    const fetch = stubApi({ "/api/health": { ...healthWhilePreparing(["sasrec", "bert4rec"]), preparing: null } });
    renderAt(<PreparingBanner />, "/");
    await waitFor(() => { expect(fetch).toHaveBeenCalled(); });
    expect(screen.queryByTestId("preparing-banner")).not.toBeInTheDocument();
  });

  it("fetches the lists on screen again when a model joins, and goes when the last one is ready", async () => {
    stubApi({ "/api/health": healthWhilePreparing([]) });
    const client = renderAt(<PreparingBanner />, "/");
    await screen.findByText(/SASRec is learning now/);
    client.setQueryData(["home", 1], { rows: [] });
    expect(client.getQueryState(["home", 1])?.isInvalidated).toBe(false);

    stubApi({ "/api/health": healthWhilePreparing(["sasrec"]) });
    await client.refetchQueries({ queryKey: ["health"] });
    await screen.findByText(/1 of 2 models ready; BERT4Rec is learning now/);
    await waitFor(() => { expect(client.getQueryState(["home", 1])?.isInvalidated).toBe(true); });

    stubApi({ "/api/health": { ...healthWhilePreparing(["sasrec", "bert4rec"]), preparing: null } });
    await client.refetchQueries({ queryKey: ["health"] });
    await waitFor(() => { expect(screen.queryByTestId("preparing-banner")).not.toBeInTheDocument(); });
  });
});
