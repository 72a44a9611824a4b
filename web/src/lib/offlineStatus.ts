/**
 * The page's side of offline use: whether the home rows on screen are a kept copy (and from when), and the words a
 * request gets when the device is offline. main.tsx installs `watchOffline` once; OfflineNotice reads the state.
 */
import type { Middleware } from "openapi-fetch";
import { useSyncExternalStore } from "react";

import { ApiError, BackendUnavailableError } from "../api/errors";
import { client } from "../api/http";
import { homeReadOf, OFFLINE_REFUSED, savedAtOf } from "./offline";

/** A request refused because the device is offline (status 0: no HTTP answer; not retried, not "server down"). */
export class OfflineError extends ApiError {
  constructor() {
    super(0, "offline", OFFLINE_REFUSED);
    this.name = "OfflineError";
  }
}

type Listener = () => void;
const listeners = new Set<Listener>();
// When the home rows last read were fetched, if they came from the service worker's kept copy (null: live).
let homeSavedAt: Date | null = null;

function emit(): void {
  for (const listener of listeners) listener();
}

/** Record the latest home-rows read: a kept copy's fetch time, or null (a live answer, or none at all). */
export function recordHomeRead(savedAt: Date | null): void {
  if (savedAt?.getTime() === homeSavedAt?.getTime()) return;
  homeSavedAt = savedAt;
  emit();
}

function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  window.addEventListener("online", listener);
  window.addEventListener("offline", listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener("online", listener);
    window.removeEventListener("offline", listener);
  };
}

/** `{online, savedAt}`: the browser's network state and the kept home copy's fetch time, re-rendering on change. */
export function useOfflineState(): { online: boolean; savedAt: Date | null } {
  const online = useSyncExternalStore(subscribe, () => navigator.onLine);
  const savedAt = useSyncExternalStore(subscribe, () => homeSavedAt);
  return { online, savedAt };
}

/** Watch every API answer for kept copies, and turn "could not connect" while offline into words; returns the undo. */
export function watchOffline(): () => void {
  const middleware: Middleware = {
    onResponse({ request, response }) {
      if (homeReadOf(new URL(request.url)) !== null) recordHomeRead(savedAtOf(response));
      return undefined;
    },
    onError({ request, error }) {
      if (homeReadOf(new URL(request.url)) !== null) recordHomeRead(null); // no rows shown: nothing to date
      // Only a failed connection while the browser says it is offline; a server that is down keeps its banner.
      return error instanceof BackendUnavailableError && !navigator.onLine ? new OfflineError() : undefined;
    },
  };
  client.use(middleware);
  return () => {
    client.eject(middleware);
  };
}
