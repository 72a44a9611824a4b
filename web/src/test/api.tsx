/** Test helpers: a fetch that answers API paths with envelopes, and a render with the app's providers. */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactNode } from "react";
import { MemoryRouter, Route, Routes } from "react-router";
import { vi } from "vitest";

import { ToastProvider } from "../components/Toasts";
import { SessionProvider } from "../lib/session";

/** GET /api/access as `make run` answers it: local demo mode, MovieLens profiles writable by anyone. */
export const DEMO_ACCESS = {
  demo_mode: true,
  notice: "demo mode: anyone on this machine can rate as any MovieLens user",
  admin: false,
};

/** Stub the global fetch: each request's path (without the query) is answered with `{data, meta}` from `routes`
 * (GET /api/access: demo mode unless given); `metas` adds to the meta of a path (e.g. `total` of a paged list). */
export function stubApi(given: Record<string, unknown>, metas: Record<string, object> = {}) {
  const routes: Record<string, unknown> = { "/api/access": DEMO_ACCESS, ...given };
  const fetch = vi.fn((request: Request) => {
    const path = new URL(request.url).pathname;
    const known = Object.prototype.hasOwnProperty.call(routes, path);
    const body = known
      ? { data: routes[path], meta: { took_ms: 1, ...metas[path] } }
      : { error: { code: "not_found", message: `no stub for ${path}`, details: null } };
    return Promise.resolve(
      new Response(JSON.stringify(body), { status: known ? 200 : 404, headers: { "content-type": "application/json" } }),
    );
  });
  vi.stubGlobal("fetch", fetch);
  return fetch;
}

/** Render `element` at `url` (matched by `path`) inside a fresh query client (returned), session and router. */
export function renderAt(element: ReactNode, url: string, path = "*") {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={client}>
      <SessionProvider>
        <ToastProvider>
          <MemoryRouter initialEntries={[url]}>
            <Routes>
              <Route path={path} element={element} />
            </Routes>
          </MemoryRouter>
        </ToastProvider>
      </SessionProvider>
    </QueryClientProvider>,
  );
  return client;
}
