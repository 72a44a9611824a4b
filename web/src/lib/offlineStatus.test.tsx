import { render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { fetchHealth, fetchHome, postFeedback } from "../api/endpoints";
import { ApiError, BackendUnavailableError, errorMessage } from "../api/errors";
import { OfflineNotice } from "../components/OfflineNotice";
import { OFFLINE_REFUSED, SAVED_AT_HEADER } from "./offline";
import { OfflineError, recordHomeRead, watchOffline } from "./offlineStatus";

function setOnline(online: boolean): void {
  vi.spyOn(navigator, "onLine", "get").mockReturnValue(online);
  window.dispatchEvent(new Event(online ? "online" : "offline"));
}

const HOME = { data: { user_id: 7, rows: [] }, meta: { took_ms: 1 } };

describe("offline words on the page", () => {
  let unwatch: () => void = () => undefined;
  beforeEach(() => {
    unwatch = watchOffline();
  });
  afterEach(() => {
    unwatch();
    recordHomeRead(null);
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
  });

  it("refuses a write with words while offline instead of reporting the server down", async () => {
    vi.stubGlobal("fetch", vi.fn(() => Promise.reject(new TypeError("Failed to fetch"))));
    setOnline(false);
    const error = await postFeedback({ user_id: 7, movie_id: 1, kind: "like" } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OfflineError);
    expect(error).toBeInstanceOf(ApiError);
    expect(errorMessage(error)).toBe(OFFLINE_REFUSED);
  });

  it("leaves a failed connection while online to the server-down banner", async () => {
    vi.stubGlobal("fetch", vi.fn(() => Promise.reject(new TypeError("Failed to fetch"))));
    setOnline(true);
    expect(await fetchHealth().catch((e: unknown) => e)).toBeInstanceOf(BackendUnavailableError);
  });

  it("dates the home page when its rows are the service worker's kept copy, and clears it on a live answer", async () => {
    const stamped = new Response(JSON.stringify(HOME), {
      headers: { "Content-Type": "application/json", [SAVED_AT_HEADER]: "2026-12-07T21:41:00Z" },
    });
    vi.stubGlobal("fetch", vi.fn(() => Promise.resolve(stamped)));
    setOnline(false);
    render(<OfflineNotice />);
    await fetchHome(7);
    expect(await screen.findByTestId("offline-notice")).toHaveTextContent(/^You are offline: showing your home page from .*2026/);

    const live = new Response(JSON.stringify(HOME), { headers: { "Content-Type": "application/json" } });
    vi.stubGlobal("fetch", vi.fn(() => Promise.resolve(live)));
    await fetchHome(7);
    await waitFor(() => {
      expect(screen.getByTestId("offline-notice")).toHaveTextContent(/^You are offline\. Ratings/);
    });
    setOnline(true);
    await waitFor(() => {
      expect(screen.queryByTestId("offline-notice")).toBeNull();
    });
  });
});
