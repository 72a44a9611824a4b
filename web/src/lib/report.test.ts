import { describe, expect, it } from "vitest";

import { modelEntry } from "../test/fixtures";
import { type ModelEntry, readModelFigures } from "./report";

const split = {
  n_users: 943,
  hr10: 0.21,
  ndcg10: 0.11,
  mrr: 0.09,
  coverage: 0.3,
  n_liked: 0,
  n_disliked: 0,
  liked_hr10: null,
  liked_ndcg10: null,
  disliked_hr10: null,
  ci: { hr10: [0.19, 0.23] as [number, number], ndcg10: [0.1, 0.12] as [number, number] },
  seconds: 1.2,
};

const entry = (extra: Partial<ModelEntry> = {}): ModelEntry =>
  modelEntry(split, { valid: { ...split, hr10: 0.5 }, ...extra });

describe("readModelFigures", () => {
  it("reads the test split with intervals given as [low, high]", () => {
    const figures = readModelFigures(entry());
    expect(figures.nUsers).toBe(943);
    expect(figures.metrics.hr10).toEqual({ value: 0.21, low: 0.19, high: 0.23 });
    expect(figures.metrics.mrr).toEqual({ value: 0.09, low: null, high: null });
  });

  it("reads per-epoch curves, never a grid search", () => {
    const epochs = [
      { epoch: 1, loss: 7.1, valid_ndcg10: 0.05 },
      { epoch: 2, loss: 6.4, valid_ndcg10: 0.08 },
    ];
    expect(readModelFigures(entry({ epochs })).curves).toEqual({ loss: [7.1, 6.4], valid_ndcg10: [0.05, 0.08] });
    // A grid search logged as "epochs" (no loss) is not a training curve.
    expect(readModelFigures(entry({ epochs: [{ epoch: 1, lambda: 50, valid_ndcg10: 0.1 }] })).curves).toEqual({});
  });

  it("returns nothing for a model the report does not have", () => {
    expect(readModelFigures(null)).toEqual({ nUsers: null, metrics: {}, curves: {} });
  });
});

describe("liking figures", () => {
  it("reads liked-next and disliked-next with their intervals, and leaves out a figure without users", () => {
    const test = {
      ...split,
      liked_ndcg10: 0.08,
      disliked_hr10: null,
      ci: { ...split.ci, liked_ndcg10: [0.06, 0.1] as [number, number] },
    };
    const figures = readModelFigures(entry({ test }));
    expect(figures.metrics.liked_ndcg10).toEqual({ value: 0.08, low: 0.06, high: 0.1 });
    expect(figures.metrics.disliked_hr10).toBeUndefined();
  });
});
