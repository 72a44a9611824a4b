import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import { markBackendDown, markBackendUp } from "../lib/backendStatus";
import { BackendBanner } from "./BackendBanner";

function renderBanner() {
  const client = new QueryClient();
  render(
    <QueryClientProvider client={client}>
      <BackendBanner />
    </QueryClientProvider>,
  );
}

describe("BackendBanner", () => {
  afterEach(() => {
    act(() => {
      markBackendUp();
    });
    vi.unstubAllGlobals();
  });

  it("is hidden while the backend answers and shows when a request cannot connect", () => {
    renderBanner();
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
    act(() => {
      markBackendDown("Connection refused.");
    });
    expect(screen.getByRole("alert")).toHaveTextContent("The Movie Genie server is not responding");
    expect(screen.getByRole("alert")).toHaveTextContent("make run");
  });

  it("Retry keeps the banner while the server is still unreachable", async () => {
    vi.stubGlobal("fetch", vi.fn().mockRejectedValue(new TypeError("Failed to fetch")));
    renderBanner();
    act(() => {
      markBackendDown("Connection refused.");
    });
    await userEvent.click(screen.getByRole("button", { name: "Retry" }));
    await waitFor(() => {
      expect(screen.getByRole("button", { name: "Retry" })).toBeEnabled();
    });
    expect(screen.getByRole("alert")).toBeInTheDocument();
  });

  it("Retry clears the banner once the server answers", async () => {
    const health = new Response(JSON.stringify({ data: { status: "ok" }, meta: {} }), {
      status: 200,
      headers: { "content-type": "application/json" },
    });
    vi.stubGlobal("fetch", vi.fn().mockResolvedValue(health));
    renderBanner();
    act(() => {
      markBackendDown("Connection refused.");
    });
    await userEvent.click(screen.getByRole("button", { name: "Retry" }));
    await waitFor(() => {
      expect(screen.queryByRole("alert")).not.toBeInTheDocument();
    });
  });
});
