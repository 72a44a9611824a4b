import { describe, expect, it } from "vitest";

import type { MovieMark } from "../api/types";
import { NO_MARK as MARK } from "../test/fixtures";
import { describeMark, undoChanges } from "./marks";

const BASE = { userId: 7, movieId: 6, title: "Heat" };
const target = { user_id: 7, movie_id: 6, impression_id: null };

describe("undoChanges: the state before the action comes back", () => {
  it("a new rating is cleared; a replaced app rating comes back", () => {
    expect(undoChanges({ ...BASE, kind: "rating", value: 4, before: MARK })).toEqual([
      { ...target, kind: "rating", value: null, remove: true },
    ]);
    const rated = { ...MARK, rating: 2.5, rating_source: "app" } as MovieMark;
    expect(undoChanges({ ...BASE, kind: "rating", value: 4, before: rated })).toEqual([
      { ...target, kind: "rating", value: 2.5 },
    ]);
  });

  it("an app rating over a data-set rating is cleared, which shows the data set's again", () => {
    const dataset = { ...MARK, rating: 3, rating_source: "dataset" } as MovieMark;
    expect(undoChanges({ ...BASE, kind: "rating", value: 5, before: dataset })).toEqual([
      { ...target, kind: "rating", value: null, remove: true },
    ]);
  });

  it("a cleared rating comes back", () => {
    const rated = { ...MARK, rating: 4, rating_source: "app" } as MovieMark;
    expect(undoChanges({ ...BASE, kind: "rating", remove: true, before: rated })).toEqual([
      { ...target, kind: "rating", value: 4 },
    ]);
  });

  it("a like that replaced a dislike is taken back and the dislike restored", () => {
    const disliked = { ...MARK, disliked: true } as MovieMark;
    expect(undoChanges({ ...BASE, kind: "like", before: disliked })).toEqual([
      { ...target, kind: "like", value: null, remove: true },
      { ...target, kind: "dislike", value: null },
    ]);
  });

  it("a removed mark is set again", () => {
    expect(undoChanges({ ...BASE, kind: "dismiss", remove: true })).toEqual([
      { ...target, kind: "dismiss", value: null, remove: false },
    ]);
  });
});

describe("describeMark", () => {
  it("says what was done in a sentence", () => {
    expect(describeMark({ ...BASE, kind: "rating", value: 3.5 })).toBe("You rated Heat 3.5★.");
    expect(describeMark({ ...BASE, kind: "dismiss" })).toBe("Heat will not be recommended again.");
    expect(describeMark({ ...BASE, kind: "like", remove: true })).toBe("Heat is no longer in your likes.");
  });
});
