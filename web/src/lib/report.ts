/**
 * Reading the evaluation report that GET /api/models carries. Its shape is the evaluation layer's schema
 * (`movie_genie.evaluation.schema`), typed in the generated client: a model's `evaluation` entry holds its test
 * figures (`{n_users, hr10, ndcg10, mrr, coverage, liked_ndcg10, disliked_hr10, ci: {name: [low, high]}}`) and its
 * training log's `epochs`. Liked-next figures are over the people who loved the film they rated next (4★ or more);
 * disliked-next over those who went on to rate it 2★ or less, where lower is better.
 */
import type { components } from "../api/schema";

export type ModelEntry = components["schemas"]["ModelEntry"];
type SplitMetrics = components["schemas"]["SplitMetrics"];

export const METRIC_LABELS = {
  hr10: "HR@10",
  ndcg10: "NDCG@10",
  mrr: "MRR",
  coverage: "Coverage",
  liked_ndcg10: "Liked-next NDCG@10",
  disliked_hr10: "Disliked-next HR@10 (lower is better)",
} as const;

export type MetricName = keyof typeof METRIC_LABELS;

export interface Metric {
  value: number;
  low: number | null;
  high: number | null;
}

export interface ModelFigures {
  nUsers: number | null;
  metrics: Partial<Record<MetricName, Metric>>;
  curves: Record<string, number[]>;
}

function readMetrics(split: SplitMetrics): Partial<Record<MetricName, Metric>> {
  const metrics: Partial<Record<MetricName, Metric>> = {};
  for (const name of Object.keys(METRIC_LABELS) as MetricName[]) {
    const value = split[name];
    if (value === null) continue; // no user liked (or disliked) their held-out film
    const interval = split.ci?.[name];
    metrics[name] = { value, low: interval?.[0] ?? null, high: interval?.[1] ?? null };
  }
  return metrics;
}

function readCurves(entry: ModelEntry): Record<string, number[]> {
  const epochs = entry.epochs ?? [];
  const curves: Record<string, number[]> = {};
  // Only gradient training has curves over epochs; other models log grid searches (e.g. EASE's lambda) there.
  if (!epochs.some((e) => typeof e.loss === "number")) return curves;
  for (const epoch of epochs) {
    for (const [key, value] of Object.entries(epoch)) {
      if (key === "epoch" || key === "seconds") continue;
      (curves[key] ??= []).push(value);
    }
  }
  return curves;
}

/** The test figures and training curves of one model's report entry (empty when the report has none for it). */
export function readModelFigures(entry: ModelEntry | null | undefined): ModelFigures {
  if (!entry) return { nUsers: null, metrics: {}, curves: {} };
  return { nUsers: entry.test.n_users, metrics: readMetrics(entry.test), curves: readCurves(entry) };
}
