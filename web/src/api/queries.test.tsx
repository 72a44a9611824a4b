import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, renderHook, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";

import { movieSummary as movie } from "../test/fixtures";
import {
  keys,
  SERVER_DEFAULT_K,
  useHome,
  usePopular,
  useRecommendations,
  useSendFeedback,
  useSimilar,
  useSimilarUsers,
  useUser,
  useUserRatings,
  useUsers,
} from "./queries";
import type { Recommendations } from "./types";

/** A fetch that answers every call with a list of `k` films (k from the query string; 10 without one). */
function stubFetch() {
  const fetch = vi.fn((request: Request) => {
    const k = Number(new URL(request.url).searchParams.get("k") ?? 10);
    const films = Array.from({ length: k }, (_, i) => movie(i + 1, `Film ${i + 1}`));
    const data: unknown = request.url.includes("/api/recommendations")
      ? ({
          user_id: 5,
          model: "hybrid",
          items: films.map((m, i) => ({ rank: i + 1, score: 1, reason: null, movie: m })),
        } satisfies Recommendations)
      : films;
    return Promise.resolve(
      new Response(JSON.stringify({ data, meta: { took_ms: 1, total: k } }), {
        status: 200,
        headers: { "content-type": "application/json" },
      }),
    );
  });
  vi.stubGlobal("fetch", fetch);
  return fetch;
}

function sent(fetch: ReturnType<typeof stubFetch>): URL[] {
  return fetch.mock.calls.map(([request]) => new URL(request.url));
}

function withClient() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const wrapper = ({ children }: { children: ReactNode }) => (
    <QueryClientProvider client={client}>{children}</QueryClientProvider>
  );
  return { client, wrapper };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("query keys", () => {
  it("hold every parameter that changes the answer", () => {
    const distinct = (a: readonly unknown[], b: readonly unknown[]) => {
      expect(JSON.stringify(a)).not.toBe(JSON.stringify(b));
    };
    distinct(keys.popular(18), keys.popular(30));
    distinct(keys.popular(18, "Drama"), keys.popular(18));
    distinct(keys.recommendations(5, "hybrid", 12), keys.recommendations(5, "hybrid", 20));
    distinct(keys.recommendations(5, "hybrid", 12), keys.recommendations(5, "ease", 12));
    distinct(keys.similar(6, null, 12), keys.similar(6, null, 6));
    distinct(keys.similar(6, null, 12), keys.similar(6, 5, 12));
    distinct(keys.similarUsers(5, 8), keys.similarUsers(5, 4));
    distinct(keys.users("", 1, 24), keys.users("", 1, 12));
    distinct(keys.userRatings(5, 1, 20), keys.userRatings(5, 1, 50));
  });

  it("keep the prefixes feedback invalidates", () => {
    const startsWith = (key: readonly unknown[], prefix: readonly unknown[]) => {
      expect(key.slice(0, prefix.length)).toEqual(prefix);
    };
    startsWith(keys.recommendations(5, "hybrid", 12), keys.recommendations(5));
    startsWith(keys.recommendations(5, "hybrid", 12), keys.recommendations(5, "hybrid"));
    startsWith(keys.mark(5, 6), keys.mark(5));
    startsWith(keys.similar(6, 5, 12), ["similar"]);
  });
});

describe("two screens asking for a different k", () => {
  it("popular: Onboarding's 30 and another screen's 18 are two cache entries and two requests", async () => {
    const fetch = stubFetch();
    const { client, wrapper } = withClient();
    const { result } = renderHook(() => ({ few: usePopular(18), many: usePopular(30) }), { wrapper });
    await waitFor(() => { expect(result.current.few.isSuccess && result.current.many.isSuccess).toBe(true); });
    expect(result.current.few.data).toHaveLength(18);
    expect(result.current.many.data).toHaveLength(30);
    expect(sent(fetch).map((url) => url.searchParams.get("k")).sort()).toEqual(["18", "30"]);
    expect(client.getQueryCache().findAll({ queryKey: ["popular"] })).toHaveLength(2);
  });

  it("recommendations, similar films and similar people: one entry per k", async () => {
    stubFetch();
    const { wrapper } = withClient();
    const { result } = renderHook(
      () => ({
        recsFew: useRecommendations(5, "hybrid", 5),
        recsMany: useRecommendations(5, "hybrid", 9),
        similarFew: useSimilar(6, null, 3),
        similarMany: useSimilar(6, null, 7),
        peopleFew: useSimilarUsers(5, 2),
        peopleMany: useSimilarUsers(5, 4),
      }),
      { wrapper },
    );
    await waitFor(() => { expect(Object.values(result.current).every((q) => q.isSuccess)).toBe(true); });
    expect(result.current.recsFew.data?.items).toHaveLength(5);
    expect(result.current.recsMany.data?.items).toHaveLength(9);
    // The stub answers a plain list: enough to tell the two entries apart.
    expect(result.current.similarFew.data).not.toEqual(result.current.similarMany.data);
    expect(result.current.peopleFew.data).not.toEqual(result.current.peopleMany.data);
  });

  it("user lists: one entry per page size", async () => {
    const fetch = stubFetch();
    const { wrapper } = withClient();
    const useLists = () => ({
      a: useUsers("", 1, 12),
      b: useUsers("", 1, 24),
      c: useUserRatings(5, 1, 10),
      d: useUserRatings(5, 1, 20),
    });
    renderHook(useLists, { wrapper });
    await waitFor(() => { expect(fetch).toHaveBeenCalledTimes(4); });
    expect(sent(fetch).map((url) => url.searchParams.get("page_size")).sort()).toEqual(["10", "12", "20", "24"]);
  });
});

describe("a query waiting for an id", () => {
  it("fetches nothing and caches no made-up id until the id is known", async () => {
    const fetch = stubFetch();
    const { client, wrapper } = withClient();
    const { result, rerender } = renderHook(
      ({ userId }: { userId: number | null }) => ({
        home: useHome(userId),
        user: useUser(userId),
        recs: useRecommendations(userId, "hybrid"),
        similar: useSimilar(null, userId),
      }),
      { wrapper, initialProps: { userId: null as number | null } },
    );
    expect(result.current.home.fetchStatus).toBe("idle");
    expect(result.current.user.fetchStatus).toBe("idle");
    expect(fetch).not.toHaveBeenCalled();
    const cached = client.getQueryCache().findAll().map((query) => query.queryKey);
    expect(cached.flat()).not.toContain(-1);
    // The backend banner's "Retry" refetches the active queries: one waiting for an id is not among them.
    await act(() => client.refetchQueries({ type: "active" }));
    expect(fetch).not.toHaveBeenCalled();

    rerender({ userId: 5 });
    await waitFor(() => { expect(result.current.recs.isSuccess).toBe(true); });
    const paths = sent(fetch).map((url) => url.pathname);
    expect(paths).toEqual(expect.arrayContaining(["/api/users/5/home", "/api/users/5", "/api/recommendations"]));
    expect(paths.some((path) => path.includes("-1"))).toBe(false);
    expect(sent(fetch).find((url) => url.pathname === "/api/recommendations")?.searchParams.get("k")).toBe(
      String(SERVER_DEFAULT_K),
    );
  });
});

describe("feedback", () => {
  it("refetches the user's recommendations whatever their model and k", async () => {
    const fetch = stubFetch();
    const { wrapper } = withClient();
    const { result } = renderHook(
      () => ({
        few: useRecommendations(5, "hybrid", 5),
        other: useRecommendations(5, "ease", 7),
        send: useSendFeedback(),
      }),
      { wrapper },
    );
    await waitFor(() => { expect(result.current.few.isSuccess && result.current.other.isSuccess).toBe(true); });
    const before = sent(fetch).filter((url) => url.pathname === "/api/recommendations").length;
    await act(() => result.current.send.mutateAsync({ user_id: 5, movie_id: 6, kind: "like", value: null }));
    const after = sent(fetch).filter((url) => url.pathname === "/api/recommendations");
    expect(after.length - before).toBe(2);
    expect(after.slice(before).map((url) => url.searchParams.get("k")).sort()).toEqual(["5", "7"]);
  });
});
