/**
 * What the installed app keeps for offline use, shared by the service worker (sw/service-worker.ts) and the page.
 *
 * Only a few reads are kept: the current profile's home rows and profile, as the Home page reads them (another
 * person's profile page is not kept), and the server-wide answers the home page needs. Writes are never kept: offline they are refused with words. A kept copy is
 * stamped with the time it was fetched and answers only a request carrying the same credentials (`Vary:
 * Authorization`), and the worker keeps one profile's copies at a time, so no profile's rows are shown to another.
 * This file has no DOM or worker types: both builds import it.
 */

/** The header a kept copy carries: when it was fetched (ISO 8601). A live answer never has it. */
export const SAVED_AT_HEADER = "X-Movie-Genie-Saved-At";

/** Caches of kept reads are named by this prefix plus the app build's id, so a new build starts afresh. */
export const READS_CACHE_PREFIX = "movie-genie-reads-";

// /api/users/<id> and /api/users/<id>/home: the profile the home page greets and its rows.
const PROFILE_READ = /^\/api\/users\/(\d+)(?:\/home)?$/;
// Server-wide answers the home page needs to draw (demo mode, the models' names); nothing about a person.
const SHARED_READS = new Set(["/api/access", "/api/models"]);
const HOME_READ = /^\/api\/users\/(\d+)\/home$/;

/** Which kept read a GET of `url` is: the profile it belongs to (null: shared), or undefined when none is kept. */
export function keptRead(url: URL): { userId: number | null } | undefined {
  const profile = PROFILE_READ.exec(url.pathname);
  if (profile) return url.search === "" ? { userId: Number(profile[1]) } : undefined;
  return SHARED_READS.has(url.pathname) && url.search === "" ? { userId: null } : undefined;
}

/** The profile whose private data a URL names (/api/users/<id>/...), if any. */
export function profileOf(url: URL): number | null {
  const match = /^\/api\/users\/(\d+)(?:\/|$)/.exec(url.pathname);
  return match ? Number(match[1]) : null;
}

/** The user id of a home-rows read, or null. */
export function homeReadOf(url: URL): number | null {
  const match = HOME_READ.exec(url.pathname);
  return match ? Number(match[1]) : null;
}

/** Whether an answer means the app server did not answer (a proxy in front of it said so: bad gateway, gateway
 * timeout), so a kept copy serves better. 503 is not one: the app itself answers it (e.g. still starting). */
export function serverUnreachable(status: number): boolean {
  return status === 502 || status === 504;
}

/** The copy to keep of a live answer: the same body and headers, stamped with `savedAt`, and varying by the
 * Authorization header so that only a request with the same key (or, like the original, none) is answered by it. */
export async function keptCopy(response: Response, savedAt: Date): Promise<Response> {
  const headers = new Headers(response.headers);
  const vary = headers.get("Vary");
  headers.set("Vary", vary ? `${vary}, Authorization` : "Authorization");
  headers.set(SAVED_AT_HEADER, savedAt.toISOString());
  return new Response(await response.blob(), { status: response.status, statusText: response.statusText, headers });
}

/** When a kept copy was fetched, or null for a live answer. */
export function savedAtOf(response: Response): Date | null {
  const stamp = response.headers.get(SAVED_AT_HEADER);
  if (stamp === null) return null;
  const date = new Date(stamp);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** A fetch time as people read it in their own locale and zone: "7 Dec 2026, 22:41". */
export function readableTime(date: Date, locale?: string, timeZone?: string): string {
  return date.toLocaleString(locale, { dateStyle: "medium", timeStyle: "short", timeZone });
}

/** The notice above the app: why the page may be old, and that changes wait (null when nothing needs saying). */
export function offlineNotice(online: boolean, savedAt: Date | null, time = readableTime): string | null {
  if (online && savedAt === null) return null;
  const why = online ? "The server cannot be reached" : "You are offline";
  const shown = savedAt === null ? "" : `: showing your home page from ${time(savedAt)}`;
  return `${why}${shown}. Ratings and other changes cannot be saved until ${online ? "it answers" : "you are back online"}.`;
}

/** The words a request gets when the device is offline: a change is refused, never queued and lost silently. */
export const OFFLINE_REFUSED = "You are offline: nothing was sent to the server. Try again when you are back online.";
