/// <reference types="vitest/config" />
import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";
import { VitePWA } from "vite-plugin-pwa";

// The Flask backend serves the built app and the API on one port (5001); in `npm run dev` Vite serves the app
// with hot reload and forwards /api and /metrics there, so the browser still sees a single origin.
const backend = process.env.MOVIE_GENIE_BACKEND ?? "http://127.0.0.1:5001";

// The installable app: its manifest (icons from `npm run icons`) and its service worker (sw/sw.ts), to which the
// plugin hands the build's file list with a hash per file, so each build is a new worker that replaces the old.
const pwa = VitePWA({
  strategies: "injectManifest",
  srcDir: "sw",
  filename: "sw.ts",
  registerType: "autoUpdate",
  injectRegister: false, // main.tsx registers it (no inline script: the CSP forbids those)
  includeAssets: ["favicon.svg", "favicon.ico", "apple-touch-icon-180x180.png"],
  manifest: {
    id: "/",
    name: "Movie Genie",
    short_name: "Movie Genie",
    description: "Personal movie recommendations from models trained on MovieLens.",
    start_url: "/",
    scope: "/",
    display: "standalone",
    orientation: "any",
    background_color: "#fafafa",
    theme_color: "#7c3aed",
    icons: [
      { src: "pwa-64x64.png", sizes: "64x64", type: "image/png" },
      { src: "pwa-192x192.png", sizes: "192x192", type: "image/png" },
      { src: "pwa-512x512.png", sizes: "512x512", type: "image/png" },
      { src: "maskable-icon-512x512.png", sizes: "512x512", type: "image/png", purpose: "maskable" },
    ],
  },
  injectManifest: {
    // The whole build (lazy screens included), so every screen opens offline once the app has been loaded.
    globPatterns: ["**/*.{js,css,html,svg,png,ico,webmanifest}"],
  },
  devOptions: { enabled: false },
});

export default defineConfig({
  plugins: [react(), tailwindcss(), pwa],
  server: {
    port: 5173,
    proxy: {
      "/api": { target: backend, changeOrigin: true },
      "/metrics": { target: backend, changeOrigin: true },
    },
  },
  build: {
    target: "es2022",
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    css: false,
    // One shared jsdom per worker thread: a fresh one per file cost ~40 s on 2 cores; each test cleans up after
    // itself (Testing Library cleanup, restored timers and stubbed globals).
    pool: "threads",
    isolate: false,
  },
});
