import { describe, expect, it } from "vitest";

import { histogramQuantile, latencyHistogramNames, parseHistograms } from "./prometheus";

const TEXT = `# HELP http_request_duration_seconds Request latency
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{endpoint="recommendations",le="0.005"} 10
http_request_duration_seconds_bucket{endpoint="recommendations",le="0.01"} 60
http_request_duration_seconds_bucket{endpoint="recommendations",le="0.025"} 100
http_request_duration_seconds_bucket{endpoint="recommendations",le="+Inf"} 100
http_request_duration_seconds_count{endpoint="recommendations"} 100
http_request_duration_seconds_sum{endpoint="recommendations"} 0.9
http_request_duration_seconds_bucket{endpoint="search",le="0.005"} 0
http_request_duration_seconds_bucket{endpoint="search",le="+Inf"} 0
http_request_duration_seconds_count{endpoint="search"} 0
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 1.5
`;

describe("prometheus text", () => {
  it("finds latency histograms and their label sets", () => {
    expect(latencyHistogramNames(TEXT)).toEqual(["http_request_duration_seconds"]);
    const histograms = parseHistograms(TEXT, "http_request_duration_seconds");
    expect(histograms.map((h) => h.labels.endpoint)).toEqual(["recommendations", "search"]);
    expect(histograms[0]?.count).toBe(100);
    expect(histograms[0]?.buckets.at(-1)?.le).toBe(Infinity);
  });

  it("interpolates quantiles inside a bucket like histogram_quantile", () => {
    const [recs, search] = parseHistograms(TEXT, "http_request_duration_seconds");
    if (!recs || !search) throw new Error("expected two histograms");
    // rank 50 of 100 lies 40/50 of the way through (0.005, 0.01]
    expect(histogramQuantile(recs, 0.5)).toBeCloseTo(0.009, 6);
    // rank 99 lies 39/40 of the way through (0.01, 0.025]
    expect(histogramQuantile(recs, 0.99)).toBeCloseTo(0.024625, 6);
    expect(histogramQuantile(search, 0.5)).toBeNull();
  });
});
