import { afterEach, describe, expect, it, vi } from "vitest";

import { ApiError, BackendUnavailableError } from "./errors";
import { getJson, readEnvelope, toQueryString } from "./http";

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

describe("http layer", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("builds query strings without empty values and repeats arrays", () => {
    expect(toQueryString({ q: "robots", mode: "semantic", genre: "", year_min: undefined, k: 24 })).toBe(
      "?q=robots&mode=semantic&k=24",
    );
    expect(toQueryString({ id: [1, 2] })).toBe("?id=1&id=2");
    expect(toQueryString({})).toBe("");
  });

  it("unwraps the success envelope", async () => {
    await expect(readEnvelope(json({ data: [1, 2], meta: { total: 2 } }))).resolves.toEqual({
      data: [1, 2],
      meta: { total: 2 },
    });
  });

  it("turns the error envelope into ApiError with its code, message and status", async () => {
    const error = await readEnvelope(json({ error: { code: "not_found", message: "No movie 9", details: null } }, 404)).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 404, code: "not_found", message: "No movie 9" });
  });

  it("treats a proxy's 502 without an envelope as the backend being down", async () => {
    await expect(readEnvelope(new Response("Bad Gateway", { status: 502 }))).rejects.toBeInstanceOf(
      BackendUnavailableError,
    );
  });

  it("treats a refused connection as the backend being down", async () => {
    vi.stubGlobal("fetch", vi.fn().mockRejectedValue(new TypeError("Failed to fetch")));
    await expect(getJson("/api/health")).rejects.toBeInstanceOf(BackendUnavailableError);
  });
});
