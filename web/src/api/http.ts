/**
 * The typed client (openapi-fetch over the generated `paths`) and the one place that reads the envelopes:
 * success `{"data", "meta"}` becomes data, `{"error": {...}}` becomes ApiError, no connection becomes
 * BackendUnavailableError.
 */
import createClient from "openapi-fetch";

import { ApiError, BackendUnavailableError } from "./errors";
import type { paths } from "./schema";

// A proxy (Vite dev server, a reverse proxy) answers these without an envelope when the backend is not running.
const GATEWAY_STATUSES = new Set([502, 503, 504]);

/** fetch, with "could not connect" turned into BackendUnavailableError (aborts pass through). */
export async function send(request: Request): Promise<Response> {
  try {
    return await globalThis.fetch(request);
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new BackendUnavailableError();
  }
}

export const client = createClient<paths>({
  baseUrl: typeof window === "undefined" ? "http://localhost" : window.location.origin,
  fetch: send,
  headers: { Accept: "application/json" },
});

// The current profile's bearer secret (lib/session.tsx keeps it): writes and private reads of a profile created in
// the app need it; MovieLens profiles need none (they are writable only in the server's local demo mode).
let profileSecret: string | null = null;

/** Send `Authorization: Bearer <secret>` with every API call from now on (null: send none). */
export function setProfileSecret(secret: string | null): void {
  profileSecret = secret;
}

client.use({
  onRequest({ request }) {
    if (profileSecret) request.headers.set("Authorization", `Bearer ${profileSecret}`);
    return request;
  },
});

/** The error to throw for a non-2xx answer whose body openapi-fetch has parsed (object) or kept as text. */
export function toError(response: Response, body: unknown): Error {
  if (body && typeof body === "object" && "error" in body) {
    const err = (body as { error: { code?: string; message?: string; details?: unknown } }).error;
    return new ApiError(response.status, err.code ?? "error", err.message ?? response.statusText, err.details);
  }
  if (GATEWAY_STATUSES.has(response.status)) {
    return new BackendUnavailableError(`The proxy in front of it answered HTTP ${response.status}.`);
  }
  return new ApiError(response.status, "bad_response", `Unexpected answer from the server (HTTP ${response.status}).`);
}

interface Answer<E> {
  data?: E;
  error?: unknown;
  response: Response;
}

/** The envelope of a successful openapi-fetch answer, or the matching error thrown. */
export async function envelope<E>(call: Promise<Answer<E>>): Promise<E> {
  const { data, error, response } = await call;
  if (error !== undefined || data === undefined) throw toError(response, error);
  return data;
}
