import { describe, expect, it } from "vitest";

import { activeYears, activityLine, countOf, liftLabel, tasteLine } from "./users";

describe("user descriptions", () => {
  it("pluralises counts", () => {
    expect(countOf(1, "rating")).toBe("1 rating");
    expect(countOf(2, "rating")).toBe("2 ratings");
    expect(countOf(0, "rating")).toBe("0 ratings");
    expect(countOf(2698, "rating")).toBe("2,698 ratings");
  });

  it("gives the active years as one year or a range", () => {
    expect(activeYears({ first_rated_at: "2015-03-01T00:00:00Z", last_rated_at: "2015-09-01T00:00:00Z" })).toBe("2015");
    expect(activeYears({ first_rated_at: "2000-01-01T00:00:00Z", last_rated_at: "2018-01-01T00:00:00Z" })).toBe("2000–2018");
    expect(activeYears({ first_rated_at: null, last_rated_at: null })).toBeNull();
    expect(
      activityLine({ rating_count: 1, source: "app", first_rated_at: "2026-01-01T00:00:00Z", last_rated_at: "2026-02-01T00:00:00Z" }),
    ).toBe("1 rating · since 2026");
  });

  it("describes taste by its distinctive traits", () => {
    const noir = { kind: "genre" as const, name: "Film-Noir", count: 12, lift: 4.26 };
    const scorsese = { kind: "tag" as const, name: "martin scorsese", count: 3, lift: 20.27 };
    const taste = [noir, { kind: "genre" as const, name: "War", count: 9, lift: 1.5 }, scorsese];
    expect(tasteLine({ taste })).toBe("Film-Noir, War · martin scorsese");
    expect(tasteLine({ taste: [] })).toBeNull();
    expect(liftLabel(noir)).toBe("4.3× as much as most people");
    expect(liftLabel(scorsese)).toBe("20× as much as most people");
  });
});
