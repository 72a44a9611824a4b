/// <reference lib="webworker" />
/**
 * The installed app's service worker: serves the app shell (the build, precached by vite-plugin-pwa) for every page
 * and keeps the few reads the home page needs, so that offline the app still opens on the last home page it saw
 * (src/lib/offline.ts says which reads, and how a kept copy is stamped and guarded).
 *
 * Versioning: the build injects its file list with a hash per file; a new build is a new worker, which installs
 * beside the old one, takes over at once and deletes the old build's files and kept reads (the page reloads onto the
 * new build, see main.tsx). Requests it does not handle (writes, search, film pages) go to the network as usual.
 */
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from "workbox-precaching";
import { NavigationRoute, registerRoute } from "workbox-routing";

import { keptCopy, keptRead, profileOf, READS_CACHE_PREFIX, serverUnreachable } from "../src/lib/offline";

declare const self: ServiceWorkerGlobalScope;

const manifest = self.__WB_MANIFEST;
precacheAndRoute(manifest);
cleanupOutdatedCaches();

// Every page of the app is index.html (client-side routes); the API and the metrics are never pages.
registerRoute(new NavigationRoute(createHandlerBoundToURL("index.html"), { denylist: [/^\/api(\/|$)/, /^\/metrics/] }));

// index.html's revision changes with every build that changes any file: kept reads belong to one build.
const shellRevision = manifest.find((entry) => typeof entry !== "string" && entry.url === "index.html");
const READS_CACHE = READS_CACHE_PREFIX + (typeof shellRevision === "object" ? (shellRevision.revision ?? "dev") : "dev");

/** Delete kept reads of every profile but `keep` (null: of every profile). */
async function forgetProfiles(cache: Cache, keep: number | null): Promise<void> {
  for (const request of await cache.keys()) {
    const owner = profileOf(new URL(request.url));
    if (owner !== null && owner !== keep) await cache.delete(request);
  }
}

/** Whether the request comes from the app's Home page: only there is a profile read the current profile's own (the
 * profile page of someone else, /users/<id>, reads theirs). */
async function fromHome(clientId: string): Promise<boolean> {
  const client = clientId ? await self.clients.get(clientId) : undefined;
  return client !== undefined && new URL(client.url).pathname === "/";
}

/** Network first; a successful answer is kept (a profile's only when read by Home, replacing any other profile's),
 * a failed connection gets the kept copy. */
async function readKeepingCopy(request: Request, userId: number | null, clientId: string): Promise<Response> {
  const cache = await caches.open(READS_CACHE);
  try {
    const response = await fetch(request);
    if (response.status === 200 && (userId === null || (await fromHome(clientId)))) {
      await cache.put(request, await keptCopy(response.clone(), new Date()));
      if (userId !== null) await forgetProfiles(cache, userId);
    }
    // Behind a proxy (compose's nginx), a stopped app server is a 502/504 rather than a failed connection.
    if (serverUnreachable(response.status)) return (await cache.match(request)) ?? response;
    return response;
  } catch (error) {
    // Vary: Authorization on the copy: only a request with the same key (or none, like the original) matches.
    const copy = await cache.match(request);
    if (copy) return copy;
    throw error;
  }
}

/** A profile's deletion passes through untouched; once it succeeded, the kept reads (one profile's) go too. */
async function deleteProfile(request: Request): Promise<Response> {
  const response = await fetch(request);
  if (response.ok) await forgetProfiles(await caches.open(READS_CACHE), null);
  return response;
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "GET") {
    const kept = keptRead(url);
    if (kept) event.respondWith(readKeepingCopy(request, kept.userId, event.clientId));
  } else if (request.method === "DELETE" && /^\/api\/users\/\d+$/.test(url.pathname)) {
    event.respondWith(deleteProfile(request));
  }
});

// A new build takes over at once instead of waiting for every tab to close; old builds' kept reads are deleted.
self.addEventListener("install", () => {
  void self.skipWaiting();
});
self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(READS_CACHE_PREFIX) && name !== READS_CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});
