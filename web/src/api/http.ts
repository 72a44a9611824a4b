import { ApiError, BackendUnavailableError } from "./errors";

/** Every success answer of the API: `{"data": ..., "meta": {...}}`. */
export interface Envelope<T> {
  data: T;
  meta?: Record<string, unknown>;
}

type QueryValue = string | number | boolean | null | undefined | readonly (string | number)[];

/** `?a=1&b=x` from an object, skipping empty values and repeating array values (`genre=A&genre=B`). */
export function toQueryString(query: Record<string, QueryValue> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) {
      for (const item of value) params.append(key, String(item));
    } else {
      params.append(key, String(value));
    }
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

// A proxy (Vite dev server, a reverse proxy) answers these when the backend behind it is not running.
const GATEWAY_STATUSES = new Set([502, 503, 504]);

/** Turn a fetch Response into the envelope's data, or throw ApiError / BackendUnavailableError. */
export async function readEnvelope<T>(response: Response): Promise<Envelope<T>> {
  const type = response.headers.get("content-type") ?? "";
  const body: unknown = type.includes("json") ? await response.json().catch(() => null) : null;
  if (response.ok && body && typeof body === "object" && "data" in body) {
    return body as Envelope<T>;
  }
  if (body && typeof body === "object" && "error" in body) {
    const err = (body as { error: { code?: string; message?: string; details?: unknown } }).error;
    throw new ApiError(response.status, err.code ?? "error", err.message ?? response.statusText, err.details);
  }
  if (GATEWAY_STATUSES.has(response.status)) {
    throw new BackendUnavailableError(`The Movie Genie server did not answer (HTTP ${response.status}).`);
  }
  throw new ApiError(response.status, "bad_response", `Unexpected answer from the server (HTTP ${response.status}).`);
}

/** fetch, with "could not connect" turned into BackendUnavailableError (aborts are passed through). */
export async function send(input: string, init?: RequestInit): Promise<Response> {
  try {
    const headers = new Headers(init?.headers);
    headers.set("Accept", "application/json");
    return await fetch(input, { ...init, headers });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new BackendUnavailableError();
  }
}

/** GET an API path and return the envelope (data + meta). */
export async function getEnvelope<T>(
  path: string,
  query?: Record<string, QueryValue>,
  signal?: AbortSignal,
): Promise<Envelope<T>> {
  const response = await send(path + toQueryString(query), signal ? { signal } : undefined);
  return readEnvelope<T>(response);
}

/** GET an API path and return its data. */
export async function getJson<T>(path: string, query?: Record<string, QueryValue>, signal?: AbortSignal): Promise<T> {
  return (await getEnvelope<T>(path, query, signal)).data;
}

/** POST a JSON body and return the answer's data. */
export async function postJson<T>(path: string, body: unknown): Promise<T> {
  const response = await send(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return (await readEnvelope<T>(response)).data;
}
