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

// The API's sentences for these are written for programs (they name headers and endpoints): the app's own words.
const PLAIN_WORDS: Record<string, string> = {
  secret_required:
    "This profile is private to the browser that made it. To open it here, choose “Use my profile key” on the Choose a profile page and paste its key.",
  not_owner:
    "This browser holds another profile's key. To open this profile, choose “Use my profile key” on the Choose a profile page and paste its key.",
  demo_profile_read_only:
    "Profiles from the MovieLens data set cannot be changed on this server. Start your own profile to rate films.",
};

/** A one-line message for any error a query can throw, in the person's terms: the server's own sentence (it says
 * what was wrong and what to do) or, for the access errors, the app's; status codes and error codes stay in the
 * browser's console and the server log. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    const plain = PLAIN_WORDS[error.code];
    if (plain) return plain;
    if (error.status === 429) return "Too many requests at once. Wait a few seconds and try again.";
    if (error.status >= 500) return "Something went wrong on the server. Try again in a moment.";
    return error.message;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
