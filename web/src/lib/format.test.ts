import { describe, expect, it } from "vitest";

import { pairedVerdict, percent, percentCI, points, pValue, utcMinute } from "./format";
import { MODEL_CARDS } from "../test/fixtures";
import { modelWords } from "./models";

describe("dashboard formats", () => {
  it("says what a paired interval allows: beats only wholly above 0, worse only wholly below", () => {
    expect(pairedVerdict([0.001, 0.007], "base")).toBe("beats base");
    expect(pairedVerdict([-0.012, -0.002], "base")).toBe("worse than base");
    expect(pairedVerdict([-0.001, 0.007], "base")).toBe("no clear difference from base");
  });

  it("writes shares, differences of shares and p-values as people read them", () => {
    expect(percent(0.2512)).toBe("25.1%");
    expect(percent(null)).toBe("—");
    expect(percentCI({ value: 0.25, low: 0.231, high: 0.271 })).toBe("23.1–27.1%");
    expect(percentCI({ value: null, low: null, high: null })).toBe("");
    expect(points(-0.012)).toBe("-1.2 pp");
    expect(pValue(0.0352)).toBe("0.035");
    expect(pValue(0.00001)).toBe("< 0.001");
  });

  it("writes a timestamp in UTC whatever the browser's time zone", () => {
    expect(utcMinute("2026-11-30T09:15:02+01:00")).toBe("2026-11-30 08:15 UTC");
    expect(utcMinute("not a date")).toBe("not a date");
  });

  it("names experiment variants: a model, a model at a version, interleaving's one arm", () => {
    const words = modelWords(MODEL_CARDS);
    expect(words.variant("two_tower")).toBe("Two-Tower");
    expect(words.variant("ease@v20261130-081502")).toBe("EASE @ v20261130-081502");
    expect(words.variant("interleaved")).toBe("Both, interleaved");
    expect(words.label("a_model_added_later")).toBe("a_model_added_later");
    expect(modelWords([]).label("two_tower")).toBe(""); // still loading: no badge rather than the raw name
  });
});
