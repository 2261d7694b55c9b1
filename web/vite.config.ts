// The web UI of `skillmeat web`. `npm run build` writes dist/, which the C
// build embeds in the binary (tools/embed_dir.py). For development, run
// `skillmeat web --port 8765` and `npx vite` with SKILLMEAT_URL set to it.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1024 },
  oxc: { jsx: { runtime: "automatic" } },
  server: {
    proxy: { "/api": { target: process.env.SKILLMEAT_URL ?? "http://127.0.0.1:8765", changeOrigin: true } },
  },
  test: { include: ["src/**/*.test.ts"] },
} as never);
