import { screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { ModelInfo, ModelsInfo, OnlineReport } from "../api/types";
import type { ModelEntry } from "../lib/report";
import { renderAt, stubApi } from "../test/api";
import { MODEL_CARDS, modelEntry } from "../test/fixtures";
import Dashboard from "./Dashboard";

// Real-shaped figures of GET /api/models after `movie-genie retrain` twice and `movie-genie models promote` once.
const split = (ndcg10: number) => ({
  n_users: 610,
  hr10: ndcg10 * 2,
  ndcg10,
  mrr: ndcg10 * 0.8,
  coverage: 0.21,
  n_liked: 0,
  n_disliked: 0,
  liked_hr10: null,
  liked_ndcg10: null,
  disliked_hr10: null,
  ci: { hr10: [ndcg10 * 1.8, ndcg10 * 2.2], ndcg10: [ndcg10 - 0.01, ndcg10 + 0.01], mrr: [0.04, 0.06] },
  seconds: 1.5,
});

const entry = (ndcg10: number): ModelEntry => modelEntry(split(ndcg10));

const CHALLENGER = "v20261130-101500";
const PROMOTED = "v20261130-081502";

const EASE: ModelInfo = {
  name: "ease",
  api_name: "ease",
  version: "3f2a9c1d",
  release: PROMOTED,
  loaded: true,
  evaluation: entry(0.0612),
  versions: [
    {
      version: CHALLENGER,
      created_at: "2026-11-30T10:15:00Z",
      serving: false,
      test: split(0.0598),
      vs_current: { against: `ease@${PROMOTED}`, difference: -0.0071, ci: [-0.0124, -0.0019], metric: "ndcg10" },
    },
    {
      version: PROMOTED,
      created_at: "2026-11-30T08:15:02Z",
      serving: true,
      test: split(0.0655),
      vs_current: { against: "ease@base", difference: 0.004, ci: [0.001, 0.007], metric: "ndcg10" },
    },
  ],
  experiments: [`ease-${CHALLENGER}`],
};

const POPULARITY: ModelInfo = {
  name: "popularity",
  api_name: "popularity",
  version: "9b01c2aa",
  release: "base",
  loaded: true,
  evaluation: entry(0.0213),
  versions: [],
  experiments: ["popularity-vs-ease"],
};

const TWO_TOWER: ModelInfo = {
  name: "two_tower",
  api_name: "two_tower",
  version: null,
  release: null,
  loaded: false,
  evaluation: null,
  versions: [],
  experiments: [],
};

const NOTES = [
  "Intervals treat impressions as independent; impressions of one user are correlated, so the intervals are somewhat too narrow when users see many lists.",
];

const variant = (name: string, impressions: number, clicked: number, mrr: number) => ({
  variant: name,
  users: Math.round(impressions / 3),
  impressions,
  clicked_impressions: clicked,
  clicks: clicked + 7,
  ctr: { value: clicked / impressions, low: clicked / impressions - 0.02, high: clicked / impressions + 0.02 },
  rating_rate: { value: 0.05, low: 0.03, high: 0.08 },
  mrr: { value: mrr, low: mrr - 0.01, high: mrr + 0.01 },
});

const INTERLEAVING: OnlineReport = {
  experiment: `ease-${CHALLENGER}`,
  design: "interleaving",
  variants: ["ease", `ease@${CHALLENGER}`],
  active: true,
  start: null,
  stop: null,
  per_variant: [variant("interleaved", 414, 104, 0.081)],
  interleaving: {
    teams: ["ease", `ease@${CHALLENGER}`],
    wins: { ease: 61, [`ease@${CHALLENGER}`]: 39 },
    ties: 4,
    no_clicks: 310,
    share_first: { value: 0.61, low: 0.512, high: 0.7 },
    p_value: 0.0352,
  },
  decision: {
    rule: "Fixed horizon: read once 1000 interleaved impressions have a preference (one ranker's films got more clicks).",
    horizon_reached: false,
    verdict: "not yet decidable",
    winner: null,
    difference: null,
  },
  notes: NOTES,
};

const AB: OnlineReport = {
  experiment: "popularity-vs-ease",
  design: "ab",
  variants: ["popularity", "ease"],
  active: false,
  start: "2026-11-01",
  stop: "2026-11-29",
  per_variant: [variant("popularity", 1200, 84, 0.031), variant("ease", 1180, 143, 0.052)],
  interleaving: null,
  decision: {
    rule: "Fixed horizon: read once both variants have 1000 impressions (or more).",
    horizon_reached: true,
    verdict: "better",
    winner: "ease",
    difference: { value: 0.051, low: 0.021, high: 0.081 },
  },
  notes: NOTES,
};

function renderDashboard(info: Partial<ModelsInfo>) {
  stubApi({
    "/api/models": {
      models: [EASE, POPULARITY, TWO_TOWER],
      catalogue: MODEL_CARDS,
      report: null,
      experiments: [],
      reload_error: null,
      ...info,
    },
  });
  renderAt(<Dashboard />, "/models");
}

/** The rows of one model's group in the versions table, by version. */
async function versionRows(model: string): Promise<Record<string, HTMLElement>> {
  const group = await screen.findByTestId(`versions-${model}`);
  const rows = within(group).getAllByTestId("version-row");
  return Object.fromEntries(rows.map((row) => [row.dataset.version ?? "", row]));
}

describe("Dashboard: model versions", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("lists each model's versions newest first with the serving one marked and its paired difference", async () => {
    renderDashboard({ experiments: [INTERLEAVING, AB] });
    const ease = await versionRows("ease");
    expect(Object.keys(ease)).toEqual([CHALLENGER, PROMOTED, "base"]);
    expect(within(screen.getByTestId("versions-ease")).getByTestId("serves")).toHaveTextContent(`serves ${PROMOTED}`);

    const promoted = ease[PROMOTED];
    expect(promoted).toHaveTextContent("serving");
    expect(promoted).toHaveTextContent("2026-11-30 08:15 UTC");
    expect(promoted).toHaveTextContent("0.0655");
    expect(within(promoted as HTMLElement).getByTestId("vs-current")).toHaveTextContent(
      "+0.0040[+0.0010, +0.0070] · beats base",
    );

    const challenger = ease[CHALLENGER];
    expect(challenger).not.toHaveTextContent("serving");
    expect(within(challenger as HTMLElement).getByTestId("vs-current")).toHaveTextContent(`worse than ${PROMOTED}`);
    // The challenger and the serving version (the experiment's bare "ease") are both in the experiment.
    expect(challenger).toHaveTextContent(`in ease-${CHALLENGER}`);
    expect(promoted).toHaveTextContent(`in ease-${CHALLENGER}`);
    expect(ease.base).not.toHaveTextContent("serving");

    const popularity = await versionRows("popularity");
    expect(Object.keys(popularity)).toEqual(["base"]);
    expect(popularity.base).toHaveTextContent("base (pipeline)");
    expect(popularity.base).toHaveTextContent("serving");
    expect(popularity.base).toHaveTextContent("0.0213");
    // popularity-vs-ease has stopped: only running experiments are marked.
    expect(popularity.base).not.toHaveTextContent("in popularity-vs-ease");
    expect(screen.getByTestId("versions-two_tower")).toHaveTextContent("not loaded");

    expect(screen.getByText(/movie-genie models promote <id>/)).toBeInTheDocument();
    expect(screen.queryByText("No retrained versions yet")).not.toBeInTheDocument();
    expect(screen.queryByTestId("reload-error")).not.toBeInTheDocument();
  });

  it("says how to make, promote and roll back versions when there are none", async () => {
    renderDashboard({ models: [{ ...EASE, release: "base", versions: [], experiments: [] }, POPULARITY] });
    const empty = (await screen.findByText("No retrained versions yet")).parentElement;
    expect(empty).toHaveTextContent("movie-genie retrain");
    expect(empty).toHaveTextContent("movie-genie models promote <id>");
    expect(empty).toHaveTextContent("movie-genie models rollback");
    // Every model still says what it serves.
    expect((await versionRows("ease")).base).toHaveTextContent("serving");
  });

  it("warns when the last hot reload failed, with its reason", async () => {
    const reason = `popularity@${CHALLENGER}: checkpoint popularity.pt is missing`;
    renderDashboard({ reload_error: reason });
    const warning = await screen.findByRole("alert");
    expect(warning).toHaveTextContent("still serve");
    expect(warning).toHaveTextContent(reason);
    expect(warning).toHaveTextContent("movie-genie models rollback");
  });
});

describe("Dashboard: online experiments", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("shows an interleaving experiment's wins, ties, p-value and undecided verdict with its rule", async () => {
    renderDashboard({ experiments: [INTERLEAVING] });
    const card = await screen.findByRole("article", { name: `ease-${CHALLENGER}` });
    expect(card).toHaveTextContent("Interleaving (team draft)");
    expect(within(card).getByTestId("experiment-state")).toHaveTextContent("running");
    expect(card).toHaveTextContent(`EASE vs EASE @ ${CHALLENGER}`);

    const [row] = within(card).getAllByTestId("variant-row");
    expect(within(row as HTMLElement).getByRole("rowheader")).toHaveTextContent("Both, interleaved");
    expect(row).toHaveTextContent("414"); // impressions
    expect(row).toHaveTextContent("25.1%"); // CTR 104 / 414
    expect(row).toHaveTextContent("23.1–27.1%");
    expect(row).toHaveTextContent("0.081"); // MRR
    expect(row).toHaveTextContent("0.071–0.091");

    const credit = within(card).getByTestId("interleaving");
    expect(credit).toHaveTextContent("Wins of EASE61");
    expect(credit).toHaveTextContent(`Wins of EASE @ ${CHALLENGER}39`);
    expect(credit).toHaveTextContent("Ties4");
    expect(credit).toHaveTextContent("No click310");
    expect(credit).toHaveTextContent("EASE's share of wins61.0%51.2–70.0%");
    expect(credit).toHaveTextContent("p-value0.035");

    const decision = within(card).getByTestId("decision");
    expect(decision).toHaveTextContent("Not yet decidable: the horizon has not been reached");
    expect(within(decision).getByTestId("decision-rule")).toHaveTextContent(/^Fixed horizon: read once 1000/);
  });

  it("shows an A/B experiment per variant and its decision: the winner and the CTR difference", async () => {
    renderDashboard({ experiments: [AB] });
    const card = await screen.findByRole("article", { name: "popularity-vs-ease" });
    expect(card).toHaveTextContent("A/B test");
    expect(within(card).getByTestId("experiment-state")).toHaveTextContent("not running");
    expect(card).toHaveTextContent("from 2026-11-01 until 2026-11-29");
    const rows = within(card).getAllByTestId("variant-row");
    expect(rows.map((r) => within(r).getByRole("rowheader").textContent)).toEqual(["Popularity", "EASE"]);
    expect(rows[0]).toHaveTextContent("1,200"); // impressions
    expect(rows[0]).toHaveTextContent("400"); // users
    expect(rows[1]).toHaveTextContent("12.1%"); // 143 / 1180
    const decision = within(card).getByTestId("decision");
    expect(decision).toHaveTextContent("Decision: EASE is better");
    expect(decision).toHaveTextContent("CTR of EASE minus Popularity: +5.1 pp (+2.1 pp to +8.1 pp)");
    expect(decision).toHaveTextContent("Fixed horizon: read once both variants have 1000 impressions");
  });

  it("says how to start an experiment when there is none", async () => {
    renderDashboard({ experiments: [] });
    const empty = (await screen.findByText("No experiments yet")).parentElement;
    expect(empty).toHaveTextContent("experiments: in params.yaml");
    expect(empty).toHaveTextContent("movie-genie models challenge <version> --model <name>");
    expect(empty).toHaveTextContent("POST /api/experiments with the admin token");
    expect(empty).toHaveTextContent("movie-genie simulate");
    expect(screen.queryByRole("article")).not.toBeInTheDocument();
  });
});
