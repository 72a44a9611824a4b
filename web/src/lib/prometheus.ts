/**
 * The little of the Prometheus text format the dashboard needs: histogram buckets per label set, and quantiles
 * estimated from them the way PromQL's histogram_quantile does (linear interpolation inside a bucket).
 */

export interface Histogram {
  labels: Record<string, string>;
  buckets: { le: number; count: number }[]; // cumulative counts, ascending `le`
  count: number;
  sum: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function parseLabels(text: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  if (!text) return labels;
  for (const match of text.matchAll(LABEL)) {
    const [, key, value] = match;
    if (key !== undefined && value !== undefined) labels[key] = value.replace(/\\(.)/g, "$1");
  }
  return labels;
}

/** Every histogram called `name` in the exposition text, one per label set (without `le`). */
export function parseHistograms(text: string, name: string): Histogram[] {
  const byKey = new Map<string, Histogram>();
  const get = (labels: Record<string, string>): Histogram => {
    const key = JSON.stringify(Object.entries(labels).sort());
    let histogram = byKey.get(key);
    if (!histogram) {
      histogram = { labels, buckets: [], count: 0, sum: 0 };
      byKey.set(key, histogram);
    }
    return histogram;
  };
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = LINE.exec(line);
    if (!match) continue;
    const [, metric, labelText, valueText] = match;
    const value = Number(valueText);
    if (!metric || Number.isNaN(value)) continue;
    const labels = parseLabels(labelText);
    if (metric === `${name}_bucket`) {
      const le = labels.le === "+Inf" ? Infinity : Number(labels.le);
      delete labels.le;
      get(labels).buckets.push({ le, count: value });
    } else if (metric === `${name}_count`) {
      get(labels).count = value;
    } else if (metric === `${name}_sum`) {
      get(labels).sum = value;
    }
  }
  for (const histogram of byKey.values()) histogram.buckets.sort((a, b) => a.le - b.le);
  return [...byKey.values()];
}

/** The q-quantile (0..1) of a histogram, or null when it has no observations. */
export function histogramQuantile(histogram: Histogram, q: number): number | null {
  const total = histogram.buckets.at(-1)?.count ?? histogram.count;
  if (!total) return null;
  const rank = q * total;
  let previousLe = 0;
  let previousCount = 0;
  for (const { le, count } of histogram.buckets) {
    if (count >= rank) {
      if (le === Infinity) return previousLe; // the highest finite bound is all a histogram can tell
      const inBucket = count - previousCount;
      return inBucket > 0 ? previousLe + ((le - previousLe) * (rank - previousCount)) / inBucket : le;
    }
    previousLe = le;
    previousCount = count;
  }
  return previousLe;
}

/** Names of the histograms in the text whose name mentions latency/duration (the request timers). */
export function latencyHistogramNames(text: string): string[] {
  const names = new Set<string>();
  for (const match of text.matchAll(/^# TYPE (\S+) histogram$/gm)) {
    const name = match[1];
    if (name && /(duration|latency)/.test(name)) names.add(name);
  }
  return [...names];
}
