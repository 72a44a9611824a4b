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

/** A one-line message for any error a query can throw. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return `${error.message} (${error.code}, HTTP ${error.status})`;
  if (error instanceof Error) return error.message;
  return String(error);
}
