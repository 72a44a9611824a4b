import { describe, expect, it } from "vitest";

import { readModelFigures, reportProtocol } from "./report";

const metricReport = {
  n_users: 943,
  hr10: 0.21,
  ndcg10: 0.11,
  mrr: 0.09,
  coverage: 0.3,
  ci: { hr10: [0.19, 0.23], ndcg10: [0.1, 0.12] },
  seconds: 1.2,
};

describe("readModelFigures", () => {
  it("prefers the test split and reads intervals given as [low, high]", () => {
    const figures = readModelFigures({ valid: { ...metricReport, hr10: 0.5 }, test: metricReport });
    expect(figures.split).toBe("test");
    expect(figures.nUsers).toBe(943);
    expect(figures.metrics.hr10).toEqual({ value: 0.21, low: 0.19, high: 0.23 });
    expect(figures.metrics.mrr).toEqual({ value: 0.09, low: null, high: null });
  });

  it("reads a MetricReport at the top level and per-epoch curves", () => {
    const figures = readModelFigures({
      ...metricReport,
      epochs: [
        { epoch: 1, loss: 7.1, valid_ndcg10: 0.05 },
        { epoch: 2, loss: 6.4, valid_ndcg10: 0.08 },
      ],
    });
    expect(figures.split).toBeNull();
    expect(figures.metrics.ndcg10?.value).toBe(0.11);
    expect(figures.curves).toEqual({ loss: [7.1, 6.4], valid_ndcg10: [0.05, 0.08] });
    // A grid search logged as "epochs" (no loss) is not a training curve.
    expect(readModelFigures({ epochs: [{ epoch: 1, lambda: 50, valid_ndcg10: 0.1 }] }).curves).toEqual({});
  });

  it("falls back to validation figures and says so", () => {
    expect(readModelFigures({ valid: metricReport }).split).toBe("validation");
  });

  it("returns nothing for entries without figures", () => {
    expect(readModelFigures({})).toEqual({ split: null, nUsers: null, metrics: {}, curves: {} });
    expect(readModelFigures(null).metrics).toEqual({});
  });

  it("reads the protocol text", () => {
    expect(reportProtocol({ protocol: "Leave-one-out" })).toBe("Leave-one-out");
    expect(reportProtocol({})).toBeNull();
  });
});
