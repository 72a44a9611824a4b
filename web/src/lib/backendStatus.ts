import { useSyncExternalStore } from "react";

/**
 * Whether the backend answered the last request. Set by the query/mutation caches (main.tsx) on every result, read
 * by the banner: one place decides "the server is down", so no screen shows stale or made-up data silently.
 */
type Listener = () => void;

let down = false;
let lastError = "";
const listeners = new Set<Listener>();

function emit(): void {
  for (const listener of listeners) listener();
}

/** Record that a request failed because the backend could not be reached. */
export function markBackendDown(message: string): void {
  if (down && lastError === message) return;
  down = true;
  lastError = message;
  emit();
}

/** Record that the backend answered (any HTTP answer counts: it is running). */
export function markBackendUp(): void {
  if (!down) return;
  down = false;
  lastError = "";
  emit();
}

function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** `{down, message}`, re-rendering the caller when it changes. */
export function useBackendStatus(): { down: boolean; message: string } {
  const isDown = useSyncExternalStore(subscribe, () => down);
  const message = useSyncExternalStore(subscribe, () => lastError);
  return { down: isDown, message };
}
