import { afterEach, describe, expect, it, vi } from "vitest";

import { fetchHealth, fetchUsers } from "./endpoints";
import { ApiError, BackendUnavailableError } from "./errors";

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

function stubFetch(answer: Response | Error) {
  const fetchMock = vi.fn<(request: Request) => Promise<Response>>(() =>
    answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer),
  );
  vi.stubGlobal("fetch", fetchMock);
  return fetchMock;
}

describe("API client envelope handling", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("unwraps data and reads the paging meta, sending only set query values", async () => {
    const fetchMock = stubFetch(
      json({ data: [{ user_id: 1, display_name: "User 1", source: "movielens", rating_count: 5, top_genres: [] }], meta: { took_ms: 1, page: 2, page_size: 24, total: 943 } }),
    );
    const page = await fetchUsers("", 2, 24);
    expect(page.total).toBe(943);
    expect(page.items[0]?.user_id).toBe(1);
    const url = new URL(fetchMock.mock.calls[0]?.[0].url ?? "");
    expect(url.pathname).toBe("/api/users");
    expect(url.searchParams.get("page")).toBe("2");
    expect(url.searchParams.has("q")).toBe(false);
  });

  it("turns the error envelope into ApiError with its code, message and status", async () => {
    stubFetch(json({ error: { code: "not_found", message: "No user 9", details: null } }, 404));
    const error = await fetchUsers("9", 1, 24).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 404, code: "not_found", message: "No user 9" });
  });

  it("treats a proxy's 502 without an envelope as the backend being down", async () => {
    stubFetch(new Response("Bad Gateway", { status: 502, headers: { "content-type": "text/plain" } }));
    await expect(fetchHealth()).rejects.toBeInstanceOf(BackendUnavailableError);
  });

  it("treats a refused connection as the backend being down", async () => {
    stubFetch(new TypeError("Failed to fetch"));
    await expect(fetchHealth()).rejects.toBeInstanceOf(BackendUnavailableError);
  });

  it("keeps a 503 'degraded' health answer as an ApiError (the server runs)", async () => {
    stubFetch(json({ error: { code: "unavailable", message: "degraded", details: {} } }, 503));
    await expect(fetchHealth()).rejects.toBeInstanceOf(ApiError);
  });
});
