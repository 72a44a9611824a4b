import { describe, expect, it } from "vitest";

import {
  homeReadOf,
  keptCopy,
  keptRead,
  offlineNotice,
  profileOf,
  readableTime,
  SAVED_AT_HEADER,
  savedAtOf,
  serverUnreachable,
} from "./offline";

const at = (path: string) => new URL(path, "http://localhost");

describe("which reads the installed app keeps for offline use", () => {
  it("keeps a profile's home rows and profile, and the server-wide answers the home page needs", () => {
    expect(keptRead(at("/api/users/7/home"))).toEqual({ userId: 7 });
    expect(keptRead(at("/api/users/7"))).toEqual({ userId: 7 });
    expect(keptRead(at("/api/access"))).toEqual({ userId: null });
    expect(keptRead(at("/api/models"))).toEqual({ userId: null });
  });

  it("keeps nothing else: other profile data, searches, paged or filtered reads", () => {
    for (const path of ["/api/users/7/ratings", "/api/users/7/feedback", "/api/users/7/ratings.csv", "/api/search?q=noir",
      "/api/users", "/api/users/7/home?k=5", "/api/health", "/api/feedback", "/metrics", "/api/users/x/home"]) {
      expect(keptRead(at(path)), path).toBeUndefined();
    }
  });

  it("knows whose private data a URL names and which reads are home rows", () => {
    expect(profileOf(at("/api/users/12/home"))).toBe(12);
    expect(profileOf(at("/api/users/12"))).toBe(12);
    expect(profileOf(at("/api/users/123x"))).toBeNull();
    expect(profileOf(at("/api/models"))).toBeNull();
    expect(homeReadOf(at("/api/users/12/home"))).toBe(12);
    expect(homeReadOf(at("/api/users/12"))).toBeNull();
  });
});

describe("a kept copy", () => {
  it("has the body and status of the live answer, its fetch time, and varies by the Authorization header", async () => {
    const live = new Response('{"data": 1}', { status: 200, headers: { "Content-Type": "application/json", Vary: "Origin" } });
    const savedAt = new Date("2026-12-07T21:41:00Z");
    const copy = await keptCopy(live, savedAt);
    expect(await copy.text()).toBe('{"data": 1}');
    expect(copy.status).toBe(200);
    expect(copy.headers.get("Content-Type")).toBe("application/json");
    expect(copy.headers.get("Vary")).toBe("Origin, Authorization");
    expect(savedAtOf(copy)).toEqual(savedAt);
  });

  it("is told apart from a live answer, and an unreadable stamp counts as none", () => {
    expect(savedAtOf(new Response("{}"))).toBeNull();
    expect(savedAtOf(new Response("{}", { headers: { [SAVED_AT_HEADER]: "yesterday" } }))).toBeNull();
  });
});

describe("when a kept copy answers instead of the server", () => {
  it("a proxy's bad gateway or timeout means the app server did not answer; its own answers, 503 included, do not", () => {
    expect(serverUnreachable(502)).toBe(true);
    expect(serverUnreachable(504)).toBe(true);
    for (const status of [200, 304, 400, 401, 403, 404, 429, 500, 503]) expect(serverUnreachable(status), String(status)).toBe(false);
  });
});

describe("the offline notice", () => {
  const time = (date: Date) => readableTime(date, "en-GB", "UTC");
  const savedAt = new Date("2026-12-07T21:41:00Z");

  it("says nothing while online with live rows", () => {
    expect(offlineNotice(true, null, time)).toBeNull();
  });

  it("says the device is offline and from when the home page is, in the person's words", () => {
    expect(offlineNotice(false, savedAt, time)).toBe(
      "You are offline: showing your home page from 7 Dec 2026, 21:41. Ratings and other changes cannot be saved until you are back online.",
    );
    expect(offlineNotice(false, null, time)).toBe("You are offline. Ratings and other changes cannot be saved until you are back online.");
  });

  it("says the server cannot be reached when the device is online but the rows are a kept copy", () => {
    expect(offlineNotice(true, savedAt, time)).toMatch(/^The server cannot be reached: showing your home page from 7 Dec 2026, 21:41\./);
  });
});
