/** Errors the API layer raises: one for an answer in the error envelope, one for a server that cannot be reached. */

/** The backend answered with `{"error": {"code", "message", "details"}}` (or a non-JSON error page). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** The request never got an answer from the backend (server stopped, proxy 502/504, network error). */
export class BackendUnavailableError extends Error {
  constructor(message = "The connection was refused or dropped.") {
    super(message);
    this.name = "BackendUnavailableError";
  }
}

/** True when the error means "the backend is down", the case the global banner reports. */
export function isBackendDown(error: unknown): boolean {
  return error instanceof BackendUnavailableError;
}

/** A one-line message for any error a query can throw, in the person's terms: the server's own sentence (it says
 * what was wrong and what to do); status codes and error codes stay in the browser's console and the server log. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 429) return "Too many requests at once. Wait a few seconds and try again.";
    if (error.status >= 500) return "Something went wrong on the server. Try again in a moment.";
    return error.message;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
