/**
 * Reading the evaluation report that GET /api/models passes through (its shape is owned by the evaluation package
 * and typed as an open object in the spec). A model's entry holds MetricReport objects
 * (`{n_users, hr10, ndcg10, mrr, coverage, ci: {name: [low, high]}}`), under `test` (preferred) or at the top level,
 * and its training log's `epochs` (a list of `{epoch, <number>...}`); anything else is ignored, never guessed.
 */

export const METRIC_LABELS: Record<string, string> = {
  hr10: "HR@10",
  ndcg10: "NDCG@10",
  mrr: "MRR",
  coverage: "Coverage",
};

export interface Metric {
  value: number;
  low: number | null;
  high: number | null;
}

export interface ModelFigures {
  split: string | null;
  nUsers: number | null;
  metrics: Record<string, Metric>;
  curves: Record<string, number[]>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isMetricReport(value: unknown): value is Record<string, unknown> {
  return isObject(value) && Object.keys(METRIC_LABELS).some((name) => typeof value[name] === "number");
}

function readMetrics(report: Record<string, unknown>): Record<string, Metric> {
  const ci = isObject(report.ci) ? report.ci : {};
  const metrics: Record<string, Metric> = {};
  for (const name of Object.keys(METRIC_LABELS)) {
    const value = report[name];
    if (typeof value !== "number") continue;
    const interval = ci[name];
    const [low, high] = Array.isArray(interval) && interval.length === 2 ? (interval as unknown[]) : [null, null];
    metrics[name] = {
      value,
      low: typeof low === "number" ? low : null,
      high: typeof high === "number" ? high : null,
    };
  }
  return metrics;
}

function readCurves(entry: Record<string, unknown>): Record<string, number[]> {
  const log = isObject(entry.training) ? entry.training : entry;
  const epochs = Array.isArray(log.epochs) ? log.epochs.filter(isObject) : [];
  const curves: Record<string, number[]> = {};
  // Only gradient training has curves over epochs; other models log grid searches (e.g. EASE's lambda) there.
  if (!epochs.some((e) => typeof e.loss === "number")) return curves;
  for (const epoch of epochs) {
    for (const [key, value] of Object.entries(epoch)) {
      if (key === "epoch" || key === "seconds" || typeof value !== "number") continue;
      (curves[key] ??= []).push(value);
    }
  }
  return curves;
}

/** The figures of one model's report entry (empty when the report has none for it). */
export function readModelFigures(entry: Record<string, unknown> | null | undefined): ModelFigures {
  if (!entry) return { split: null, nUsers: null, metrics: {}, curves: {} };
  const candidates: [string | null, unknown][] = [
    ["test", entry.test],
    ["test", isObject(entry.metrics) ? entry.metrics.test : undefined],
    [null, entry.metrics],
    [null, entry],
    ["validation", entry.valid],
  ];
  const found = candidates.find(([, value]) => isMetricReport(value));
  const report = found && isObject(found[1]) ? found[1] : null;
  return {
    split: found?.[0] ?? null,
    nUsers: report && typeof report.n_users === "number" ? report.n_users : null,
    metrics: report ? readMetrics(report) : {},
    curves: readCurves(entry),
  };
}

/** The protocol text of the report, when it has one. */
export function reportProtocol(report: Record<string, unknown> | null | undefined): string | null {
  return report && typeof report.protocol === "string" ? report.protocol : null;
}
