import { writeFileSync } from "node:fs";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// The server serves the build under /ui (api/src/ui.rs) and embeds dist/ in the binary. The
// build empties dist/, so the .gitignore that keeps the (committed, otherwise empty) folder
// is written back afterwards: `cargo build` needs the folder even where Node never ran.
const keepDistGitignore = {
  name: "keep-dist-gitignore",
  closeBundle() {
    writeFileSync(
      "dist/.gitignore",
      "# Built by `npm run build` (vite.config.ts writes this file back after each build).\n*\n!.gitignore\n",
    );
  },
};

export default defineConfig({
  base: "/ui/",
  plugins: [react(), keepDistGitignore],
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 1024 },
  // `npm run dev` against `verity serve` (its default port, or VERITY_URL).
  server: { host: "127.0.0.1", proxy: { "/api": process.env.VERITY_URL ?? "http://127.0.0.1:8080" } },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
