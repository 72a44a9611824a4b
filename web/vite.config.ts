/// <reference types="vitest/config" />
import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The Flask backend serves the built app and the API on one port (5001); in `npm run dev` Vite serves the app
// with hot reload and forwards /api and /metrics there, so the browser still sees a single origin.
const backend = process.env.MOVIE_GENIE_BACKEND ?? "http://127.0.0.1:5001";

export default defineConfig({
  plugins: [react(), tailwindcss()],
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
